from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from haochaping.accounts.models import ApiKey
from haochaping.accounts.services import create_api_key, revoke_api_key
from haochaping.core.problems import DomainError
from haochaping.org.models import Region


class Command(BaseCommand):
    help = "创建、列出或吊销接口密钥。create 只在标准输出打印密钥本身。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create")
        create.add_argument("--name", required=True)
        create.add_argument("--scopes", required=True, help="逗号分隔，如 records:write,evaluations:write")
        create.add_argument("--region", help="行政区划代码：限制密钥只能操作该地区及下级的数据")
        create.add_argument("--expires", help="到期时间，ISO 8601")
        sub.add_parser("list")
        revoke = sub.add_parser("revoke")
        revoke.add_argument("prefix")

    def handle(self, *args, action, **opts):
        if action == "create":
            region = None
            if opts.get("region"):
                region = Region.objects.filter(code=opts["region"]).first()
                if region is None:
                    raise CommandError("行政区划代码不存在")
            expires = parse_datetime(opts["expires"]) if opts.get("expires") else None
            scopes = [s.strip() for s in opts["scopes"].split(",") if s.strip()]
            try:
                _key, secret = create_api_key(name=opts["name"], scopes=scopes, region=region, expires_at=expires)
            except DomainError as exc:
                raise CommandError(exc.detail) from exc
            self.stdout.write(secret)
        elif action == "list":
            for key in ApiKey.objects.all():
                state = "已吊销" if key.revoked_at else ("可用" if key.is_usable() else "已过期")
                self.stdout.write(f"{key.prefix}\t{key.name}\t{','.join(key.scopes)}\t{state}\t{key.last_used_at or '-'}")
        elif action == "revoke":
            key = ApiKey.objects.filter(prefix=opts["prefix"]).first()
            if key is None:
                raise CommandError("没有这个密钥前缀")
            revoke_api_key(key)
            self.stderr.write("已吊销")
