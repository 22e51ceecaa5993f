"""What `import_households` and `import_funds` share: FILE.xlsx [--dry-run] [--user USERNAME]."""

import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from imports.runner import run_import, summary_lines


class ImportCommand(BaseCommand):
    kind = ""

    def add_arguments(self, parser):
        parser.add_argument("file", help="the .xlsx workbook (the import template's layout)")
        parser.add_argument(
            "--dry-run", action="store_true", help="check and count only, write nothing"
        )
        parser.add_argument(
            "--user",
            help="the user the import is done as (scope, created_by); default: the only "
            "active superuser",
        )

    def handle(self, *args, file, dry_run, user, **options):
        if not os.path.isfile(file):
            raise CommandError(_("找不到文件“%(path)s”。") % {"path": file})
        actor = self._user(user)
        report = run_import(self.kind, file, user=actor, dry_run=dry_run)
        for line in summary_lines(report):
            self.stdout.write(line)
        for error in report.errors:
            self.stderr.write(str(error))
        if report.errors:
            count = len(report.errors)
            raise CommandError(
                ngettext(
                    "%(n)d 处错误，没有写入任何数据。", "%(n)d 处错误，没有写入任何数据。", count
                )
                % {"n": count}
            )
        if dry_run:
            self.stdout.write(_("检查通过（试运行，没有写入数据）。"))
        else:
            self.stdout.write(_("导入完成。"))

    def _user(self, username):
        users = get_user_model().objects.select_related("organisation")
        if username:
            try:
                return users.get(username=username, is_active=True)
            except get_user_model().DoesNotExist:
                raise CommandError(_("用户“%(name)s”不存在。") % {"name": username}) from None
        superusers = list(users.filter(is_superuser=True, is_active=True)[:2])
        if len(superusers) != 1:
            raise CommandError(_("请用 --user 指定以哪个用户的身份导入。"))
        return superusers[0]
