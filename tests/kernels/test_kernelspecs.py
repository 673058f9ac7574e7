"""``/api/kernelspecs`` and ``/kernelspecs/{name}/{file}``, as jupyter_server serves them."""

from __future__ import annotations

from tests.conftest import RunningServer


def test_kernelspecs_lists_installed_specs_with_default_and_resources(
    kernel_server: RunningServer,
) -> None:
    with kernel_server.client() as client:
        body = client.get("api/kernelspecs").json()
    assert body["default"] == "python3"
    assert {"python3", "tiny", "broken"} <= set(body["kernelspecs"])
    tiny = body["kernelspecs"]["tiny"]
    assert tiny["name"] == "tiny"
    assert tiny["spec"]["display_name"] == "Tiny"
    assert tiny["spec"]["language"] == "text"
    assert tiny["resources"] == {"logo-64x64": "/kernelspecs/tiny/logo-64x64.png"}
    assert body["kernelspecs"]["python3"]["spec"]["language"] == "python"


def test_one_kernelspec_by_name(kernel_server: RunningServer) -> None:
    with kernel_server.client() as client:
        body = client.get("api/kernelspecs/tiny").json()
    assert body["name"] == "tiny"
    assert body["spec"]["argv"][-2:] == ["-f", "{connection_file}"]


def test_unknown_kernelspec_is_404_json(kernel_server: RunningServer) -> None:
    with kernel_server.client() as client:
        response = client.get("api/kernelspecs/nope")
    assert response.status_code == 404
    assert "nope" in response.json()["message"]


def test_kernelspec_resource_file_is_served(kernel_server: RunningServer) -> None:
    with kernel_server.client() as client:
        response = client.get("kernelspecs/tiny/logo-64x64.png")
        missing = client.get("kernelspecs/tiny/nothing.png")
        escape = client.get("kernelspecs/tiny/..%2Fsecret.txt")
        odd = [client.get("kernelspecs/tiny/x%00y"), client.get("kernelspecs/tiny/" + "x" * 5000)]
    assert [r.status_code for r in odd] == [404, 404]  # a NUL, a name too long: not a 500
    assert response.status_code == 200
    assert response.content.startswith(b"\x89PNG")
    assert response.headers["content-type"] == "image/png"
    assert missing.status_code == 404
    assert escape.status_code == 404


def test_kernelspecs_need_a_token(kernel_server: RunningServer) -> None:
    with kernel_server.client(token="") as client:
        assert client.get("api/kernelspecs").status_code in (401, 403)
