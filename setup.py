"""Ship the headers of include/ inside the wheel (as aclnn_py/include): they are the ABI."""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithHeaders(build_py):
    def run(self):
        super().run()
        if not self.editable_mode:
            target = Path(self.build_lib) / "aclnn_py" / "include"
            shutil.copytree(Path(__file__).parent / "include", target, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildWithHeaders})
