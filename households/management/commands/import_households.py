from imports.command import ImportCommand


class Command(ImportCommand):
    help = "Import household files (and their members and history) from an .xlsx workbook."
    kind = "households"
