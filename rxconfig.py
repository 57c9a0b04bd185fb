"""Reflex configuration, driven by the same THERABEE_* settings as everything else.

Only REFLEX_-prefixed variables would override this file; we read our own
settings object instead, so one set of variables configures the whole product.
"""

import reflex as rx

from therabee.settings import browser_origins, get_settings

_settings = get_settings()
# A Redis URL switches Reflex to its Redis state manager (state shared by workers,
# surviving restarts); without one, state is kept on disk under .states/.
_redis = {"redis_url": _settings.redis_url} if _settings.redis_url else {}

config = rx.Config(
    app_name="therabee_ui",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[
        # The theme lives here (App(theme=...) is deprecated): calm teal on sage.
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(
                appearance="light",
                accent_color="teal",
                gray_color="sage",
                radius="large",
                panel_background="solid",
            )
        )
    ],
    disable_plugins=[rx.plugins.SitemapPlugin],
    # CORS closed by default: only the public URL (and, when it is a loopback address, its
    # loopback aliases) may call the backend from a browser (Reflex would otherwise allow
    # any origin, with credentials).
    cors_allowed_origins=browser_origins(_settings.public_url),
    **_redis,
)
