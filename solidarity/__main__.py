from solidarity.cli import main

main()
