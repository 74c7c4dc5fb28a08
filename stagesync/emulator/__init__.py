"""A fake BigCommerce for tests, demos and benchmarks (DESIGN.md, "The emulator").

emu = Emulator({"abc123": "token"}, seed="demo")
httpx.AsyncClient(transport=emu.transport(), base_url="http://emulator")   # in process
with start_server(emu) as server: ...                                       # real HTTP
"""

from .app import Emulator, FaultDecision, FaultSettings
from .b2b import parse_user_arg as parse_b2b_user_arg
from .errors import ApiError
from .server import RunningServer, parse_store_arg, serve, start_server
from .store import Store

__all__ = [
    "ApiError",
    "Emulator",
    "FaultDecision",
    "FaultSettings",
    "RunningServer",
    "Store",
    "parse_b2b_user_arg",
    "parse_store_arg",
    "serve",
    "start_server",
]
