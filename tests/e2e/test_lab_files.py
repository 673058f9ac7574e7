"""JupyterLab: the text editor and the file browser change the files on disk."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.lab import context_menu, file_item, open_lab, save, wait_for_file
from tests.e2e.servers import LabServer


def test_text_file_edited_in_the_editor_is_saved_to_disk(page: Page, lab_server: LabServer) -> None:
    (lab_server.root_dir / "notes.txt").write_text("first line\n")
    open_lab(page, lab_server)
    file_item(page, "notes.txt").dblclick()
    editor = page.locator(".jp-FileEditor .cm-content")
    expect(editor).to_contain_text("first line")
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type("second line")
    save(page)
    wait_for_file(lab_server.root_dir / "notes.txt", lambda t: t == "first line\nsecond line")


def test_file_renamed_in_the_file_browser_is_renamed_on_disk(
    page: Page, lab_server: LabServer
) -> None:
    (lab_server.root_dir / "before.txt").write_text("content\n")
    open_lab(page, lab_server)
    context_menu(page, file_item(page, "before.txt"), "Rename")
    name_box = page.locator(".jp-DirListing-editor")
    name_box.fill("after.txt")
    name_box.press("Enter")
    expect(file_item(page, "after.txt")).to_be_visible()
    wait_for_file(lab_server.root_dir / "after.txt", lambda t: t == "content\n")
    assert not (lab_server.root_dir / "before.txt").exists()


def test_file_deleted_in_the_file_browser_is_gone_from_disk(
    page: Page, lab_server: LabServer
) -> None:
    doomed = lab_server.root_dir / "doomed.txt"
    doomed.write_text("bye\n")
    open_lab(page, lab_server)
    context_menu(page, file_item(page, "doomed.txt"), "Move to Trash")
    page.get_by_role("dialog").locator(".jp-mod-accept").click()
    expect(file_item(page, "doomed.txt")).to_have_count(0)
    assert not doomed.exists()


def test_uploaded_file_lands_on_disk(page: Page, lab_server: LabServer, tmp_path: Path) -> None:
    local = tmp_path / "upload-me.csv"
    local.write_text("a,b\n1,2\n")
    open_lab(page, lab_server)
    with page.expect_file_chooser() as chooser:
        page.locator(".jp-FileBrowser-toolbar .jp-id-upload").click()
    chooser.value.set_files(str(local))
    expect(file_item(page, "upload-me.csv")).to_be_visible()
    wait_for_file(lab_server.root_dir / "upload-me.csv", lambda t: t == "a,b\n1,2\n")
