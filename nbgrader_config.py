"""nbgrader settings for students: the Validate button (and `nbgrader validate`) run from this folder.

The training cell may take up to a minute, nbgrader's default of 30 s per cell would cut it short.
"""

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file
c.Execute.timeout = 180
