from imports.command import ImportCommand


class Command(ImportCommand):
    help = "Import receipts, payments and refunds from an .xlsx workbook."
    kind = "funds"
