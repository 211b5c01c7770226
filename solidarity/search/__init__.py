"""Search across scripts and spellings: name matching (:mod:`.names`) for people,
organisations and places, and duplicate detection for people."""
