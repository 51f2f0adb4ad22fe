print("aio-bench")
