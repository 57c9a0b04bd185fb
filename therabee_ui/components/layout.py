"""The frame every page sits in: a header with the logo, the page, a footer."""

import reflex as rx

from therabee_ui import routes


def _header() -> rx.Component:
    return rx.el.header(
        rx.hstack(
            rx.link(
                rx.hstack(
                    rx.image(src="/logo.svg", alt="", width="32px", height="32px"),
                    rx.text("Therabee", size="5", weight="bold"),
                    align="center",
                    spacing="2",
                ),
                href=routes.INDEX,
                underline="none",
                color_scheme="gray",
                high_contrast=True,
                aria_label="Therabee home",
            ),
            rx.spacer(),
            rx.link("API docs", href=routes.API_DOCS, size="2"),
            align="center",
            width="100%",
        ),
        style={"padding": "1rem 1.5rem", "border_bottom": f"1px solid {rx.color('gray', 5)}"},
    )


def page(*children: rx.Component) -> rx.Component:
    return rx.box(
        _header(),
        rx.el.main(
            rx.container(*children, size="2", padding_y="2rem"),
            id="main",
        ),
        min_height="100vh",
        background_color=rx.color("gray", 2),
    )
