from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from orgs.pii import encrypted_fields, rotate_model


class Command(BaseCommand):
    help = _(
        "用 PII_ENCRYPTION_KEYS 中最新（第一个）密钥重新加密所有身份证号码和银行账号，"
        "包括字段历史。完成后即可从配置中删除旧密钥。可重复运行。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500, help=_("每个事务处理的行数"))
        parser.add_argument("--dry-run", action="store_true", help=_("只统计，不写入"))

    def handle(self, *args, batch_size: int, dry_run: bool, **options):
        if batch_size < 1:
            raise CommandError(_("--batch-size 须为正整数。"))
        if len(settings.PII_ENCRYPTION_KEYS) < 2:
            self.stdout.write(_("只配置了一个密钥：新密钥应放在 PII_ENCRYPTION_KEYS 的最前面。"))
        total = 0
        for model, columns in encrypted_fields():
            try:
                checked, rotated = rotate_model(
                    model, columns, batch_size=batch_size, dry_run=dry_run
                )
            except ImproperlyConfigured as exc:
                raise CommandError(f"{model._meta.label}: {exc}") from exc
            total += rotated
            self.stdout.write(
                _("%(model)s：检查 %(checked)d 个，重新加密 %(rotated)d 个")
                % {"model": model._meta.label, "checked": checked, "rotated": rotated}
            )
        if dry_run:
            self.stdout.write(_("演练：需要重新加密 %(n)d 个值，未写入。") % {"n": total})
        else:
            self.stdout.write(
                self.style.SUCCESS(_("已用最新密钥重新加密 %(n)d 个值。") % {"n": total})
            )
