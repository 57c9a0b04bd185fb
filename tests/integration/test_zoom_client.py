"""The Zoom client against the fake Zoom over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from email.utils import formatdate
from zoneinfo import ZoneInfo

import pytest

from therabee.settings import Settings
from therabee.video import get_provider
from therabee.video.free import FreeVideoProvider
from therabee.video.provider import (
    TOPIC,
    VideoAuthError,
    VideoNotFound,
    VideoRateLimited,
    VideoUnavailable,
)
from therabee.video.zoom.client import ZoomClient, get_zoom_client
from therabee.video.zoom.retry import parse_retry_after
from therabee.video.zoom.webhooks import parse_event, verify_signature
from therabee.services import clock

pytest_plugins = ["tests.integration.conftest_zoom"]

NOW = 1_800_000_000.0  # a fixed client clock, so reset timestamps give exact waits
NOW_INT = int(NOW)


def future(days: int = 2) -> datetime:
    """An aware UTC start well inside Zoom's "upcoming" list."""
    day = clock.now() + timedelta(days=days)
    return day.replace(hour=15, minute=0, second=0, microsecond=0)


def create(client: ZoomClient, marker: str = "sess-1", days: int = 2):
    return client.create_meeting(start=future(days), duration_minutes=50, timezone="America/New_York", marker=marker)


# -- OAuth ---------------------------------------------------------------------

def test_one_token_serves_many_requests(zoom_client, fake_zoom):
    for n in range(5):
        create(zoom_client, marker=f"s{n}")
    assert fake_zoom.calls["token"] == 1
    assert fake_zoom.calls["create"] == 5


def test_token_is_refreshed_a_minute_before_it_expires(make_zoom_client, fake_zoom):
    clock = [NOW]
    client = make_zoom_client(clock=lambda: clock[0])
    create(client)
    clock[0] = NOW + 3599 - 61  # still more than a minute left
    create(client, marker="s2")
    assert fake_zoom.calls["token"] == 1
    clock[0] = NOW + 3599 - 59
    create(client, marker="s3")
    assert fake_zoom.calls["token"] == 2


def test_rejected_token_is_refreshed_and_the_call_retried_once(zoom_client, fake_zoom):
    create(zoom_client)
    fake_zoom.expire_tokens()
    meeting = create(zoom_client, marker="s2")
    assert meeting.id in fake_zoom.meetings
    assert fake_zoom.calls["token"] == 2
    assert fake_zoom.calls["create"] == 3  # one 401, then the retry


def test_token_rejected_twice_is_an_auth_error(zoom_client, fake_zoom):
    fake_zoom.fail_next(5, status=401)
    with pytest.raises(VideoAuthError):
        create(zoom_client)
    assert fake_zoom.calls["token"] == 2
    assert fake_zoom.calls["create"] == 2


def test_bad_credentials_are_an_auth_error_without_retries(make_zoom_client, fake_zoom):
    client = make_zoom_client(client_secret="wrong-secret")
    with pytest.raises(VideoAuthError, match="invalid_client"):
        create(client)
    assert fake_zoom.calls["token"] == 1
    assert fake_zoom.calls["create"] == 0


def test_cold_cache_under_eight_threads_asks_for_one_token(zoom_client, fake_zoom):
    fake_zoom.delay_next(1, 0.3, kind="token")  # a slow token widens the race window
    barrier = threading.Barrier(8)
    ids: list[str] = []

    def work(n: int) -> None:
        barrier.wait()
        ids.append(create(zoom_client, marker=f"t{n}").id)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert fake_zoom.calls["token"] == 1
    assert len(set(ids)) == 8 == len(fake_zoom.meetings)


def test_processes_sharing_a_cache_ask_for_one_token(make_zoom_client, fake_zoom, memory_redis):
    fake_zoom.delay_next(1, 0.3, kind="token")
    workers = [make_zoom_client(cache=memory_redis) for _ in range(3)]  # three "processes"
    barrier = threading.Barrier(6)

    def work(n: int) -> None:
        barrier.wait()
        create(workers[n % 3], marker=f"p{n}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert fake_zoom.calls["token"] == 1
    assert len(fake_zoom.meetings) == 6
    key = workers[0]._tokens.cache_key
    assert memory_redis.lock_names and set(memory_redis.lock_names) == {key + ":lock"}
    assert 3599 - 61 <= memory_redis.ttls[key] <= 3599 - 60


def test_a_refresh_by_one_process_is_picked_up_by_another(make_zoom_client, fake_zoom, memory_redis):
    first, second = make_zoom_client(cache=memory_redis), make_zoom_client(cache=memory_redis)
    create(first)
    create(second, marker="s2")
    fake_zoom.expire_tokens()
    create(first, marker="s3")  # 401, refresh: the new token goes to the cache
    create(second, marker="s4")  # 401 with the old token, then the cached new one
    assert fake_zoom.calls["token"] == 2


def test_a_broken_cache_falls_back_to_the_process(make_zoom_client, fake_zoom, down_redis):
    client = make_zoom_client(cache=down_redis)
    for n in range(3):
        create(client, marker=f"s{n}")
    assert fake_zoom.calls["token"] == 1


def test_real_redis_shares_the_token_with_a_ttl(make_zoom_client, fake_zoom, throwaway_redis):
    first, second = make_zoom_client(cache=throwaway_redis), make_zoom_client(cache=throwaway_redis)
    create(first)
    create(second, marker="s2")
    assert fake_zoom.calls["token"] == 1
    assert 3599 - 62 <= throwaway_redis.ttl(first._tokens.cache_key) <= 3599 - 60


# -- meetings ------------------------------------------------------------------

def test_create_sends_only_the_fixed_topic_and_a_utc_start(zoom_client, fake_zoom):
    start = datetime(2030, 3, 10, 10, 0, tzinfo=ZoneInfo("America/New_York"))  # EDT, UTC-4
    meeting = zoom_client.create_meeting(start=start, duration_minutes=45, timezone="America/New_York", marker="sess-42")
    stored = fake_zoom.meetings[meeting.id]
    assert stored["topic"] == TOPIC == "Therapy session"
    assert stored["start_time"] == "2030-03-10T14:00:00Z"
    assert (stored["duration"], stored["timezone"], stored["type"]) == (45, "America/New_York", 2)
    assert stored["agenda"] == "ref:sess-42"
    assert stored["settings"] == {"waiting_room": True, "join_before_host": False}
    assert meeting.join_url == stored["join_url"]
    sent = [body for kind, _, _, body in fake_zoom.requests if kind == "create"]
    assert sent and all(set(body) - {"topic"} <= {"type", "start_time", "duration", "timezone", "agenda", "settings"}
                        and body["topic"] == TOPIC for body in sent)


def test_a_marker_that_is_not_an_opaque_id_is_refused(zoom_client, fake_zoom):
    with pytest.raises(ValueError):
        create(zoom_client, marker="Jane Doe, anxiety")
    with pytest.raises(ValueError):
        zoom_client.create_meeting(start=datetime(2030, 1, 1, 10), duration_minutes=50, timezone="UTC", marker="s1")
    assert fake_zoom.calls["create"] == 0


def test_meeting_ids_beyond_32_bits_stay_exact_strings(zoom_client, fake_zoom):
    meeting = create(zoom_client)
    assert isinstance(meeting.id, str)
    assert int(meeting.id) > 2**53  # the fake's ids would lose digits through a float
    assert meeting.id == str(fake_zoom.meetings[meeting.id]["id"])
    assert zoom_client.find_meeting_by_marker("sess-1").id == meeting.id


def test_update_moves_the_meeting(zoom_client, fake_zoom):
    meeting = create(zoom_client)
    start = datetime(2030, 11, 3, 9, 30, tzinfo=timezone.utc)
    zoom_client.update_meeting(meeting.id, start=start, duration_minutes=30, timezone="Europe/Paris")
    stored = fake_zoom.meetings[meeting.id]
    assert stored["start_time"] == "2030-11-03T09:30:00Z"
    assert (stored["duration"], stored["timezone"]) == (30, "Europe/Paris")
    assert stored["topic"] == TOPIC


def test_update_of_a_missing_meeting_is_not_found(zoom_client):
    with pytest.raises(VideoNotFound) as caught:
        zoom_client.update_meeting("123456789012", start=future(), duration_minutes=50, timezone="UTC")
    assert caught.value.code == 3001


def test_deleting_a_meeting_twice_is_fine(zoom_client, fake_zoom):
    meeting = create(zoom_client)
    zoom_client.delete_meeting(meeting.id)
    zoom_client.delete_meeting(meeting.id)  # 404 code 3001: already gone
    assert meeting.id not in fake_zoom.meetings
    assert fake_zoom.calls["delete"] == 2


def test_find_by_marker_pages_through_upcoming_meetings(make_zoom_client, fake_zoom):
    client = make_zoom_client(list_page_size=2)
    for n in range(6):
        create(client, marker=f"other-{n}", days=1)
    wanted = create(client, marker="wanted", days=5)  # sorts last: on the fourth page
    assert client.find_meeting_by_marker("wanted") == wanted
    assert fake_zoom.calls["list"] == 4
    assert client.find_meeting_by_marker("nobody") is None
    assert fake_zoom.calls["list"] == 8


def test_a_create_whose_answer_was_lost_is_unavailable_though_zoom_made_it(zoom_client, fake_zoom):
    fake_zoom.drop_connection_after_create_next(1)
    with pytest.raises(VideoUnavailable, match="did not answer"):
        create(zoom_client, marker="sess-7")
    # the job's next run finds it by its marker (services/meetings.py adopts it)
    assert zoom_client.find_meeting_by_marker("sess-7").id in fake_zoom.meetings
    assert fake_zoom.calls["create"] == 1


# -- rate limits and failures: one attempt, the wait Zoom asked for on the error -------

def test_a_rate_limit_is_raised_at_once_with_retry_after_in_seconds(zoom_client, fake_zoom):
    fake_zoom.fail_next(1, status=429, retry_after="2")
    with pytest.raises(VideoRateLimited) as caught:
        create(zoom_client)
    assert caught.value.retry_after == 2.0
    assert fake_zoom.calls["create"] == 1 and fake_zoom.meetings == {}


@pytest.mark.parametrize(
    "header",
    [
        formatdate(NOW + 7, usegmt=True),
        datetime.fromtimestamp(NOW + 7, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        str(int(NOW + 7)),
    ],
    ids=["http-date", "iso-8601", "unix-seconds"],
)
def test_retry_after_as_a_reset_timestamp_is_read_as_the_wait_until_then(make_zoom_client, fake_zoom, header):
    client = make_zoom_client(clock=lambda: NOW)
    fake_zoom.fail_next(1, status=429, retry_after=header)
    with pytest.raises(VideoRateLimited) as caught:
        create(client)
    assert caught.value.retry_after == pytest.approx(7.0)


def test_a_daily_limit_carries_the_hours_until_its_reset(make_zoom_client, fake_zoom):
    client = make_zoom_client(clock=lambda: NOW)
    fake_zoom.fail_next(1, status=429, retry_after=formatdate(NOW + 3 * 3600, usegmt=True))
    with pytest.raises(VideoRateLimited) as caught:
        create(client)
    assert caught.value.retry_after == pytest.approx(3 * 3600)
    assert fake_zoom.calls["create"] == 1


def test_an_unreadable_retry_after_is_no_wait_named(zoom_client, fake_zoom):
    fake_zoom.fail_next(1, status=429, retry_after="soon")
    with pytest.raises(VideoRateLimited) as caught:
        create(zoom_client)
    assert caught.value.retry_after is None


@pytest.mark.parametrize(("status", "retry_after", "expected"), [(500, None, None), (503, "3", 3.0)])
def test_a_server_error_is_unavailable_after_one_call(zoom_client, fake_zoom, status, retry_after, expected):
    meeting = create(zoom_client)
    fake_zoom.fail_next(1, status=status, retry_after=retry_after)
    with pytest.raises(VideoUnavailable) as caught:
        zoom_client.update_meeting(meeting.id, start=future(3), duration_minutes=50, timezone="UTC")
    assert caught.value.retry_after == expected
    assert fake_zoom.calls["update"] == 1
    assert fake_zoom.meetings[meeting.id]["timezone"] == "America/New_York"


def test_a_timeout_is_unavailable_after_one_call(make_zoom_client, fake_zoom):
    client = make_zoom_client(timeout=0.3)
    meeting = create(client)
    fake_zoom.delay_next(1, 1.0, kind="update")
    with pytest.raises(VideoUnavailable, match="did not answer"):
        client.update_meeting(meeting.id, start=future(4), duration_minutes=50, timezone="UTC")
    assert fake_zoom.calls["update"] == 1


# -- wiring and webhooks -------------------------------------------------------

def test_one_client_per_process_for_zoom_settings(fake_zoom):
    settings = Settings(jwt_secret="x" * 40, **fake_zoom.settings_overrides())
    client = get_zoom_client(settings)
    assert get_zoom_client(settings) is client
    assert get_provider(settings) is client
    free = get_provider(Settings(jwt_secret="x" * 40, free_video_base_url="https://meet.example"))
    assert isinstance(free, FreeVideoProvider)
    client.close()


def test_sent_webhooks_are_signed_like_zoom(zoom_client, fake_zoom, webhook_receiver):
    url, received = webhook_receiver
    meeting = create(zoom_client)
    fake_zoom.send_webhook(url, "meeting.started", meeting.id, "whsec-test", timestamp=NOW_INT)
    headers, raw = received[0]
    verify_signature("whsec-test", headers["x-zm-request-timestamp"], headers["x-zm-signature"], raw, now=NOW_INT)
    event = parse_event(json.loads(raw))
    assert (event.event, event.meeting_id) == ("meeting.started", meeting.id)
    assert json.loads(raw)["payload"]["object"]["topic"] == TOPIC


def test_webhook_overrides_are_signed_too(fake_zoom, webhook_receiver):
    url, received = webhook_receiver
    fake_zoom.send_webhook(url, "meeting.ended", "98765432109", "whsec-test", timestamp=NOW_INT,
                           body_overrides={"payload": {"object": {"id": "98765432109"}}})
    headers, raw = received[0]
    verify_signature("whsec-test", headers["x-zm-request-timestamp"], headers["x-zm-signature"], raw, now=NOW_INT)
    assert json.loads(raw)["payload"]["object"]["id"] == "98765432109"



@pytest.mark.parametrize(
    ("header", "expected"),
    [("0", 0.0), ("1.5", 1.5), (str(int(NOW) - 5), 0.0), (str(int(NOW + 4) * 1000), 4.0),
     ("Sun, 06 Nov 1994 08:49:37 GMT", 0.0), ("soon", None), ("", None), ("-3", None), (None, None)],
)
def test_retry_after_forms(header, expected):
    assert parse_retry_after(header, NOW) == expected
