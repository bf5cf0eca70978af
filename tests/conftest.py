"""Pin the process timezone to a non-UTC zone so any use of local time shows up as a test failure."""

import os
import time

os.environ["TZ"] = "Etc/GMT+2"
time.tzset()
