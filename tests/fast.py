"""The client settings of tests whose sandbox lifts Marketo's call limits (``rate_limit_calls=100_000``).

Such a sandbox never refuses a call for the rate, so the client's own share of Marketo's 100 calls per 20 s is lifted
too: a sync of the tiny world makes more than the default 80 calls, and keeping the 20 s window would only make each
test wait 20 s for nothing. Tests of the window itself set their own.
"""

UNTHROTTLED_WINDOW_SECONDS = "0.001"
