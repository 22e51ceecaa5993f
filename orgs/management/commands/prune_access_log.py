from datetime import timedelta

from axes.models import AccessFailureLog
from axes.models import AccessLog as LoginLog
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from orgs.models import AccessLog

# Cybersecurity Law art. 21: network logs are kept for no less than six months.
MINIMUM_RETENTION_DAYS = 183
BATCH = 5000


def delete_older(queryset, field: str, cutoff) -> int:
    """Delete rows older than `cutoff` a batch at a time, so no transaction grows huge."""
    deleted = 0
    while True:
        ids = list(
            queryset.filter(**{f"{field}__lt": cutoff})
            .order_by()
            .values_list("pk", flat=True)[:BATCH]
        )
        if not ids:
            return deleted
        deleted += queryset.filter(pk__in=ids).delete()[0]


class Command(BaseCommand):
    help = _(
        "删除超过保存期限（ACCESS_LOG_RETENTION_DAYS，默认400天，不少于183天）的个人信息访问日志"
        "和登录记录。可每日定时运行。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help=_("只统计，不删除"))

    def handle(self, *args, dry_run: bool, **options):
        days = settings.ACCESS_LOG_RETENTION_DAYS
        if days < MINIMUM_RETENTION_DAYS:
            raise CommandError(
                _(
                    "ACCESS_LOG_RETENTION_DAYS=%(days)d 过短：《网络安全法》第二十一条要求日志至少"
                    "保存六个月（%(min)d 天）。"
                )
                % {"days": days, "min": MINIMUM_RETENTION_DAYS}
            )
        cutoff = timezone.now() - timedelta(days=days)
        logs = [
            (_("个人信息访问日志"), AccessLog.objects.all(), "at"),
            (_("登录记录"), LoginLog.objects.all(), "attempt_time"),
            (_("登录失败记录"), AccessFailureLog.objects.all(), "attempt_time"),
        ]
        for label, queryset, field in logs:
            if dry_run:
                count = queryset.filter(**{f"{field}__lt": cutoff}).count()
                message = _("%(log)s：%(n)d 条早于 %(cutoff)s，演练未删除。")
            else:
                count = delete_older(queryset, field, cutoff)
                message = _("%(log)s：已删除 %(n)d 条早于 %(cutoff)s 的记录。")
            cutoff_day = timezone.localtime(cutoff).date().isoformat()
            self.stdout.write(message % {"log": label, "n": count, "cutoff": cutoff_day})
