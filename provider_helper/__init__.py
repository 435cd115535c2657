"""nvcf-mirror: copy NVCF artifacts from NGC into a private registry."""

import sys

__version__ = "0.1.0"

# httpx imports its own command-line client, and with it rich's console and pygments, whenever
# they are installed; that is a tenth of a second on every start of a tool whose warm run takes
# well under a second, for code nvcf-mirror never calls. Marking the module absent makes httpx
# fall back to its stub, as it does when its CLI extras are not installed.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
