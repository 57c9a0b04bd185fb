"""The API as the reliability runs serve it: the outer app (/api/v1), jobs sent to Celery.

`granian --interface asgi reliability.asgi:app`, with THERABEE_REDIS_URL set: importing
`tasks` installs the Celery dispatcher, as the Reflex app's start-up does.
"""

import tasks

from therabee.api.app import create_app

tasks.start()
app = create_app()
