import errno
import json
import os
from datetime import date

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from orgs.models import Organisation
from reports import render
from reports.routing import reporting
from reports.summary import CHILDREN, COUNTIES, build_years, parse_years, to_json_shape


def parse_date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(
            _("%(option)s 应为 YYYY-MM-DD 格式的日期。") % {"option": option}
        ) from None


def write(path: str, content: bytes) -> None:
    """A path that cannot be written (no such directory, no permission) is the option's error,
    said in one line rather than a traceback."""
    try:
        with open(path, "wb") as handle:
            handle.write(content)
    except OSError as exc:
        raise CommandError(
            _("--output: 无法写入 %(path)s（%(reason)s）。")
            % {"path": path, "reason": exc.strerror}
        ) from None


def check_writable(path: str) -> None:
    """Refuse an --output whose directory is missing or read-only before building the report
    (a ten-year PDF takes a while)."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        reason = os.strerror(errno.ENOENT)
    elif not os.access(directory, os.W_OK):
        reason = os.strerror(errno.EACCES)
    else:
        return
    raise CommandError(
        _("--output: 无法写入 %(path)s（%(reason)s）。") % {"path": path, "reason": reason}
    )


class Command(BaseCommand):
    help = _("生成解困脱困工作总结：JSON（默认输出到标准输出）、PDF 或 Excel。")

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help=_("组织代码"))
        when = parser.add_mutually_exclusive_group(required=True)
        when.add_argument("--year", help=_("年度，如 2019"))
        when.add_argument("--years", help=_("年度范围，如 2017-2019"))
        parser.add_argument(
            "--cutoff",
            help=_("截止日期 YYYY-MM-DD，不晚于今天；默认统计期末，统计期未结束时为今天"),
        )
        parser.add_argument(
            "--baseline", help=_("存量基准日 YYYY-MM-DD，不晚于截止日期；默认组织设置")
        )
        parser.add_argument(
            "--compare",
            choices=[CHILDREN, COUNTIES],
            default=CHILDREN,
            help=_("对比直属下级单位（children，默认）或所辖各县（区）（counties）"),
        )
        parser.add_argument("--format", default="json", help="json | pdf | xlsx")
        parser.add_argument("--output", help=_("输出文件；JSON 默认输出到标准输出"))

    def handle(self, *args, **options):
        fmt = options["format"]
        if fmt not in render.FORMATS:
            raise CommandError(_("未知的格式：%(fmt)s（可选 json、pdf、xlsx）。") % {"fmt": fmt})
        if fmt != "json" and not options["output"]:
            raise CommandError(_("PDF 和 Excel 格式需要 --output 指定输出文件。"))
        if options["output"]:
            check_writable(options["output"])
        # Codes are unique whatever their case (org_code_unique_ci).
        org = Organisation.objects.filter(code__iexact=options["org"]).first()
        if org is None:
            raise CommandError(_("没有代码为 %(code)s 的组织。") % {"code": options["org"]})
        cutoff = parse_date(options["cutoff"], "--cutoff") if options["cutoff"] else None
        baseline = parse_date(options["baseline"], "--baseline") if options["baseline"] else None
        # The form's rules, each refusal named by the option it is about.
        years_option = "--year" if options["year"] else "--years"
        try:
            first, last = parse_years(options["year"] or options["years"])
        except ValidationError as exc:
            raise CommandError(f"{years_option}: {exc.messages[0]}") from None
        if options["year"] and first != last:
            raise CommandError(_("--year 只接受一个年度；年度范围请用 --years。"))
        try:
            with reporting():
                data = build_years(
                    org,
                    first,
                    last,
                    cutoff=cutoff,
                    baseline=baseline,
                    compare=options["compare"],
                )
        except ValidationError as exc:
            if not hasattr(exc, "error_dict"):
                raise CommandError(exc.messages[0]) from None
            field, errors = next(iter(exc.message_dict.items()))
            option = years_option if field == "years" else f"--{field}"
            raise CommandError(f"{option}: {errors[0]}") from None
        if options["year"]:
            data = data["years"][str(first)]
        if fmt == "json":
            text = json.dumps(to_json_shape(data), ensure_ascii=False, indent=2)
            if options["output"]:
                write(options["output"], (text + "\n").encode())
            else:
                self.stdout.write(text)
            return
        write(options["output"], render.FORMATS[fmt](data, generated_by=None))
        self.stderr.write(_("已写入 %(path)s") % {"path": options["output"]})
