"""Telegram's part of the delivery handle read from rows as they were stored before it was
typed, and written back to the same keys."""

from __future__ import annotations

from bot.adapters.telegram.delivery_handle import TelegramHandle

OLD_ROW = {
    "status_message_id": 11,
    "picture_message_id": 12,
    "fallback_sent_at": 1700000000.5,
    "menu:13": True,
    "remix_prompt:14": "777",
    "edit_words:15:2": "888",  # an Edit by words prompt for image 2
    "inline_message_id": "AAQ-inline",
    "photo_file_id": "AgAC-photo",
    "document_file_id": "BQAC-doc",
    "nsfw_ok": True,  # the core's, not Telegram's
    "delivery_not_before": 5,
}


def test_an_old_row_reads_into_typed_fields() -> None:
    handle = TelegramHandle.of(OLD_ROW)
    assert handle.status_message_id == 11
    assert handle.picture_message_id == 12
    assert handle.fallback_sent_at == 1700000000.5
    assert handle.menus == frozenset({13})
    assert handle.remix_prompts == {14: "777"}
    assert handle.words_prompts == {(15, 2): "888"}
    assert handle.inline_message_id == "AAQ-inline"
    assert (handle.photo_file_id, handle.document_file_id) == ("AgAC-photo", "BQAC-doc")
    assert handle.recorded_messages() == {11, 12, 13}


def test_it_stores_back_the_keys_it_read_and_no_core_key() -> None:
    stored = TelegramHandle.of(OLD_ROW).stored()
    assert stored == {
        k: v for k, v in OLD_ROW.items() if k not in ("nsfw_ok", "delivery_not_before")
    }


def test_odd_values_read_as_unset() -> None:
    handle = TelegramHandle.of(
        {
            "status_message_id": "11",
            "menu:x": True,
            "menu:15": False,
            "remix_prompt:16": 5,
            "edit_words:17": "1",  # no image index
            "edit_words:x:1": "1",
            "edit_words:18:2": 9,
            "inline_message_id": 3,
        }
    )
    assert handle == TelegramHandle()
    assert handle.recorded_messages() == set()
