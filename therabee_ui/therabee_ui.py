"""The Reflex app: the pages, and our API mounted on the same backend (theme: rxconfig.py)."""

import reflex as rx

from therabee.api.app import create_app
from therabee_ui import routes
from therabee_ui.auth import AuthState
from therabee_ui.errors import report_backend_error
from therabee_ui.pages.dashboard import DashboardState, dashboard_page
from therabee_ui.pages.landing import LandingState, landing
from therabee_ui.pages.signin import sign_in_page, sign_up_page
from therabee_ui.pages.availability import AvailabilityState, availability_page
from therabee_ui.pages.calendar import CalendarState, calendar_page
from therabee_ui.pages.clients import ClientsState, clients_page
from therabee_ui.pages.book import BookState, book_page
from therabee_ui.pages.my_sessions import SessionsState, my_sessions_page

app = rx.App(
    api_transformer=create_app(),
    head_components=[rx.el.link(rel="icon", href="/favicon.svg", type="image/svg+xml")],
    # a failed event shows a readable message without eval (see therabee_ui/errors.py)
    backend_exception_handler=report_backend_error,
)



def _start_jobs() -> None:
    """Jobs go to Celery when THERABEE_REDIS_URL is set, else run in this process."""
    import tasks

    tasks.start()


app.register_lifespan_task(_start_jobs)

app.add_page(
    landing,
    route=routes.INDEX,
    title="Therabee",
    description="Recurring scheduling for therapy practices.",
    image="/logo.svg",
    on_load=[AuthState.refresh_user, LandingState.load],
)
app.add_page(sign_in_page, route=routes.SIGN_IN, title="Sign in · Therabee")
app.add_page(sign_up_page, route=routes.SIGN_UP, title="Create an account · Therabee")
app.add_page(calendar_page, route=routes.CALENDAR, title="Calendar · Therabee",
             on_load=[AuthState.require_user, CalendarState.load])
app.add_page(availability_page, route=routes.AVAILABILITY, title="Availability · Therabee",
             on_load=[AuthState.require_user, AvailabilityState.load])
app.add_page(clients_page, route=routes.CLIENTS, title="Clients · Therabee",
             on_load=[AuthState.require_user, ClientsState.load])
app.add_page(dashboard_page, route=routes.DASHBOARD, title="Dashboard · Therabee",
             on_load=[AuthState.require_user, DashboardState.load])
app.add_page(book_page, route=routes.BOOK, title="Book · Therabee",
             on_load=[AuthState.require_user, BookState.load])
app.add_page(my_sessions_page, route=routes.MY_SESSIONS, title="My sessions · Therabee",
             on_load=[AuthState.require_user, SessionsState.load])
