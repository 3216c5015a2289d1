"""Flag users with unusual personal-data reveal volumes now (for cron), or hand the check to the worker."""

from django.core.management.base import BaseCommand

from haochaping.accounts.tasks import flag_unusual_reveals


class Command(BaseCommand):
    help = "检查过去24小时内查看完整个人信息次数异常的用户，逐一写入警告日志（只含用户编号和次数）。--enqueue 交给后台任务执行。"

    def add_arguments(self, parser):
        parser.add_argument("--enqueue", action="store_true", help="加入后台任务队列，由 haochaping worker 执行")

    def handle(self, *args, enqueue: bool, **opts):
        if enqueue:
            result = flag_unusual_reveals.enqueue()
            self.stdout.write(f"已加入后台任务：{result.id}")
            return
        flags = flag_unusual_reveals.call()
        for flag in flags:
            self.stdout.write(
                f"用户 {flag['user_id']}：24小时内查看 {flag['last_day']} 次，此前30天 {flag['history']} 次，阈值 {flag['threshold']:g}"
            )
        self.stdout.write(f"查看量异常的用户：{len(flags)} 个")
