"""`python -m swift_aio.ds_io <ds_io flags>`: DeepSpeed's own ds_io, its async I/O op replaced by
swift_aio (see `swift_aio.deepspeed.install`). ds_io spawns its worker processes, which import this
module again as their main: the patch is applied at import, so it covers them."""
from swift_aio.deepspeed import install

install()

if __name__ == "__main__":
    from deepspeed.nvme import ds_io_main

    ds_io_main()
