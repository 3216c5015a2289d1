"""The public page of a service item and its current guide (R2.3)."""

import pytest

from tests import factories

pytestmark = pytest.mark.django_db


def test_item_page_shows_the_current_guide_with_evaluation_channels(client, item):
    factories.make_guide(item)
    factories.make_guide(item, evaluation_channels="窗口评价器、二维码、12345热线、爱山东App“好差评”", time_limit="承诺3个工作日")
    r = client.get(f"/items/{item.implementation_code}/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "食品经营许可证核发" in html
    assert "办事指南（第 2 版" in html
    assert "评价渠道" in html and "12345热线、爱山东App“好差评”" in html
    assert "承诺3个工作日" in html and "法定20个工作日" not in html
    assert "历史版本" in html


def test_item_without_a_guide_says_so(client, item):
    r = client.get(f"/items/{item.implementation_code}/")
    assert r.status_code == 200
    assert "该事项的办事指南尚未发布" in r.content.decode()


def test_unknown_item_is_a_chinese_404(client, db):
    r = client.get("/items/NO-SUCH-ITEM/")
    assert r.status_code == 404
    html = r.content.decode()
    assert "未找到该事项" in html and "NO-SUCH-ITEM" in html
    assert 'href="/items/"' in html


def test_inactive_item_is_not_shown(client, org):
    hidden = factories.make_item(org, is_active=False)
    factories.make_guide(hidden)
    assert client.get(f"/items/{hidden.implementation_code}/").status_code == 404


def test_item_list_searches_active_items(client, org):
    shown = factories.make_item(org, name="老年人优待证办理")
    factories.make_item(org, name="老年人能力评估", is_active=False)
    html = client.get("/items/", {"q": "老年人"}).content.decode()
    assert shown.name in html and "老年人能力评估" not in html
    assert "共 1 项" in html
