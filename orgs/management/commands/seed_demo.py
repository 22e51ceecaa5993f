from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from orgs.demo import DEMO_PASSWORD, seed_organisations_and_users
from orgs.registry import app_modules


class Command(BaseCommand):
    help = _("创建演示组织、用户和参考数据；--households N 另生成 N 户演示档案。可重复运行。")

    def add_arguments(self, parser):
        parser.add_argument("--households", type=int, default=0, help=_("生成的演示档案户数"))
        parser.add_argument("--seed", type=int, default=2026, help=_("随机数种子"))

    def handle(self, *args, households: int, seed: int, **options):
        if households < 0:
            raise CommandError(_("--households 不能为负数。"))
        orgs = seed_organisations_and_users()
        self.stdout.write(
            _("演示组织 %(orgs)d 个，演示用户密码：%(pw)s")
            % {"orgs": len(orgs), "pw": DEMO_PASSWORD}
        )
        # Each app seeds its own reference data and, on request, its demo records.
        for _config, module in app_modules("demo"):
            if hasattr(module, "seed_reference"):
                module.seed_reference(orgs=orgs, stdout=self.stdout)
            if households and hasattr(module, "seed_records"):
                module.seed_records(orgs=orgs, households=households, seed=seed, stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS(_("演示数据已就绪。")))
