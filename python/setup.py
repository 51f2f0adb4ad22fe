"""Builds libswiftaio.so (the C entry points over AsyncIO) with the Swift toolchain and puts it in
the package. The Swift runtime is linked statically, so a wheel runs where no toolchain is.

`SWIFT_AIO_PREBUILT=/path/libswiftaio.so` skips the build and packages that file instead.
"""
import os
import shutil
import subprocess
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


class BuildSwift(build_py):
    def run(self):
        super().run()
        target = Path(self.build_lib) / "swift_aio" / "libswiftaio.so"
        target.parent.mkdir(parents=True, exist_ok=True)
        prebuilt = os.environ.get("SWIFT_AIO_PREBUILT")
        if prebuilt:
            shutil.copyfile(prebuilt, target)
            return
        if not (ROOT / "Package.swift").is_file():
            raise RuntimeError(f"swift-aio: no Package.swift in {ROOT}: build from a clone of the repository "
                               "(pip install ./python), or set SWIFT_AIO_PREBUILT")
        swift = shutil.which("swift")
        if swift is None:
            raise RuntimeError("swift-aio: the Swift toolchain (swift) is not on PATH: install it, or install a wheel")
        scratch = ROOT / ".build-python"
        subprocess.run([swift, "build", "-c", "release", "--package-path", str(ROOT), "--scratch-path", str(scratch),
                        "--product", "swiftaio", "-Xswiftc", "-static-stdlib"], check=True)
        shutil.copyfile(scratch / "release" / "libswiftaio.so", target)


class BinaryDistribution(Distribution):
    """A wheel for this platform (it carries a native library), not a pure one."""

    def has_ext_modules(self):
        return True


setup(cmdclass={"build_py": BuildSwift}, distclass=BinaryDistribution)
