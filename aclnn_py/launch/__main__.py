"""``python -m aclnn_py.launch -n N script.py [args...]`` (see :mod:`aclnn_py.launch`)."""
import sys

from aclnn_py.launch import main

sys.exit(main())
