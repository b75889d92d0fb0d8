"""xinyong (信用): a public credit information platform (公共信用信息平台) for cities and counties."""

import warnings

__version__ = "0.1.0"

# The PDF signing library imports DSA names that recent `cryptography` releases deprecate; the platform never
# signs with DSA. Without this, every command would print the notice on its error stream.
warnings.filterwarnings("ignore", message="DSA is deprecated", module=r"pyhanko(\.|$)")
