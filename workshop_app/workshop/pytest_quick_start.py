"""A pytest plugin, loaded before the others (`-p` in pyproject's addopts): nbval without the
0.8 s that jsonschema's `iri` checker costs every pytest process.

nbval reads notebooks with nbformat, which imports jsonschema's format checkers. jsonschema 4.26
imports `rfc3987_syntax`, its non-GPL checker for the `iri` formats, on import, and that module
builds some 35 Lark parsers as it loads (jsonschema issue #1428). No schema the tests validate,
nbformat's included, uses the `iri` formats. Marked absent, the module is never imported and
jsonschema goes without that one checker, as it does where the package is not installed.
"""

import sys

sys.modules.setdefault("rfc3987_syntax", None)  # `import rfc3987_syntax` now raises ImportError
