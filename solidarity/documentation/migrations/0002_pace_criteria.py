"""The five criteria of PACE Resolution 1900 (2012), paragraph 3, as a controlled vocabulary."""

from django.db import migrations

CRITERIA = [
    (
        "a",
        "The detention has been imposed in violation of one of the fundamental guarantees set out "
        "in the European Convention on Human Rights and its Protocols, in particular freedom of "
        "thought, conscience and religion, freedom of expression and information, freedom of "
        "assembly and association.",
        "Лишение свободы применено в нарушение одной из основных гарантий Европейской конвенции о "
        "защите прав человека и протоколов к ней, в частности свободы мысли, совести и религии, "
        "свободы выражения мнения и информации, свободы собраний и объединений.",
    ),
    (
        "b",
        "The detention has been imposed for purely political reasons without connection to any "
        "offence.",
        "Лишение свободы применено исключительно по политическим мотивам, без связи с каким-либо "
        "правонарушением.",
    ),
    (
        "c",
        "For political motives, the length of the detention or its conditions are clearly out of "
        "proportion to the offence the person has been found guilty of or is suspected of.",
        "По политическим мотивам срок лишения свободы или его условия явно несоразмерны "
        "правонарушению, в котором лицо признано виновным или подозревается.",
    ),
    (
        "d",
        "For political motives, the person is detained in a discriminatory manner as compared to "
        "other persons.",
        "По политическим мотивам лицо лишено свободы дискриминационным образом по сравнению с "
        "другими лицами.",
    ),
    (
        "e",
        "The detention is the result of proceedings which were clearly unfair and this appears to "
        "be connected with political motives of the authorities.",
        "Лишение свободы является результатом явно несправедливого разбирательства, что, по всей "
        "видимости, связано с политическими мотивами властей.",
    ),
]


def add_criteria(apps, schema_editor):
    PaceCriterion = apps.get_model("documentation", "PaceCriterion")
    for code, label_en, label_ru in CRITERIA:
        PaceCriterion.objects.update_or_create(
            code=code, defaults={"label_en": label_en, "label_ru": label_ru}
        )


def remove_criteria(apps, schema_editor):
    apps.get_model("documentation", "PaceCriterion").objects.filter(
        code__in=[c[0] for c in CRITERIA]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("documentation", "0001_initial")]
    operations = [migrations.RunPython(add_criteria, remove_criteria)]
