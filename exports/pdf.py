"""PDF of a Word document: LibreOffice headless converts the .docx (fixed layout, fonts embedded).

Each conversion runs in its own temporary folder with a private LibreOffice profile
(-env:UserInstallation=file:///tmp/…), so conversions never share or lock a profile, and with a fontconfig file that
maps the 公文 fonts (and the deck's Microsoft YaHei) to installed Noto CJK fonts when a machine lacks them — the same
PDF on every server with LibreOffice and fonts-noto-cjk.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

TIMEOUT_SECONDS = 180
MISSING = ("未安装 LibreOffice（soffice），无法生成 PDF。请安装 libreoffice-writer-nogui"
           "（apt-get install libreoffice-writer-nogui）后重试；Word 文档不受影响。")
SERIF, SANS = "Noto Serif CJK SC", "Noto Sans CJK SC"
# a document's font → the installed font used when the machine does not have it
FALLBACKS = {"方正小标宋简体": SERIF, "方正小标宋_GBK": SERIF, "仿宋_GB2312": SERIF, "仿宋": SERIF, "FangSong": SERIF,
             "楷体_GB2312": SERIF, "楷体": SERIF, "KaiTi": SERIF, "宋体": SERIF, "SimSun": SERIF,
             "黑体": SANS, "SimHei": SANS, "微软雅黑": SANS, "Microsoft YaHei": SANS}


class PdfError(RuntimeError):
    """A PDF could not be made; the message is for the user, in Chinese."""


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def available() -> bool:
    return soffice() is not None


def _fonts_conf(folder: Path) -> Path:
    aliases = "".join(f"<alias binding=\"same\"><family>{name}</family><prefer><family>{to}</family></prefer></alias>"
                      for name, to in FALLBACKS.items())
    conf = folder / "fonts.conf"
    conf.write_text('<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
                    f"<include ignore_missing=\"yes\">/etc/fonts/fonts.conf</include>{aliases}</fontconfig>",
                    encoding="utf-8")
    return conf


def to_pdf(document: bytes, suffix: str = ".docx", timeout: int = TIMEOUT_SECONDS) -> bytes:
    """The PDF of a .docx (or another document LibreOffice opens, by `suffix`) as bytes."""
    exe = soffice()
    if exe is None:
        raise PdfError(MISSING)
    with tempfile.TemporaryDirectory(prefix="mz-pdf-") as tmp:
        folder = Path(tmp)
        source = folder / f"document{suffix}"
        source.write_bytes(document)
        env = dict(os.environ, FONTCONFIG_FILE=str(_fonts_conf(folder)), HOME=str(folder))
        cmd = [exe, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless", "--norestore",
               "--nolockcheck", "--convert-to", "pdf", "--outdir", str(folder), str(source)]
        try:
            run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise PdfError(f"LibreOffice 转换 PDF 超时（{timeout} 秒），请稍后重试。") from exc
        target = source.with_suffix(".pdf")
        if run.returncode != 0 or not target.is_file():
            raise PdfError(f"LibreOffice 未能生成 PDF（退出码 {run.returncode}）：{(run.stderr or run.stdout).strip()[:300]}")
        return target.read_bytes()
