"""gonghao serve: collect static files and run gunicorn (not Django's development server)."""

from __future__ import annotations

import os
import shutil
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the web UI and the API with gunicorn; static files through whitenoise."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("GONGHAO_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("GONGHAO_PORT", "8000")))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("GONGHAO_WORKERS", "2"))
        )

    def handle(self, *args, host: str, port: int, workers: int, **options):
        call_command("collectstatic", interactive=False, verbosity=0)
        gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) or "gunicorn"
        argv = [
            gunicorn,
            "gonghao.wsgi:application",
            "--bind",
            f"{host}:{port}",
            "--workers",
            str(workers),
            "--access-logfile",
            "-",
            "--forwarded-allow-ips",
            os.environ.get("GONGHAO_FORWARDED_ALLOW_IPS", "127.0.0.1"),
        ]
        self.stdout.write(f"Gonghao serving on http://{host}:{port}/")
        self.stdout.flush()
        os.execv(gunicorn, argv)  # noqa: S606 (replace this process with gunicorn)
