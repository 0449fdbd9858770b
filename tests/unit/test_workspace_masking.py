"""Who sees a reporter: a village cadre sees their villagers as written; township, county, admin and viewer see
names and phones masked and numbers in titles masked; a viewer sees a private topic by its topic alone."""

from dashboard.workspace.masking import masker, masking_for

TOPICS = ("低保", "信访")


def test_levels_by_role():
    assert masking_for("village") == "open"
    assert {masking_for(role) for role in ("township", "county", "admin")} == {"masked"}
    assert masking_for("viewer") == "private" and masking_for(None) == "private"


def test_what_each_level_shows():
    title = "低保申请，回电13812345678"
    open_, masked, private = (masker(level, TOPICS) for level in ("open", "masked", "private"))
    assert open_("name", "张三明") == "张三明" and open_("phone", "13912340000") == "13912340000"
    assert open_("title", title) == title
    assert masked("name", "张三明") == "张*明" and masked("phone", "13912340000") == "139****0000"
    assert masked("title", title) == "低保申请，回电138****5678"
    assert private("title", title) == "低保事项"
    assert private("title", "道路破损", ("信访投诉",)) == "信访事项"  # the topic named by the case's module
    assert masked("text", "金额 26,268.75 元") == "金额 26,268.75 元"


def test_the_fast_ways_mask_as_the_privacy_module_does():
    from dashboard.privacy import mask_phone, scrub

    masked = masker("masked", TOPICS)
    for phone in ("13912340000", "139 1234 0000", "+86 139-1234-0000", "０５７２－６０１２３４５", "12345678901", "无"):
        assert masked("phone", phone) == mask_phone(phone)
    for title in ("路灯不亮", "回电１３８１２３４５６７８", "身份证330522199001011234"):
        assert masked("title", title) == scrub(title)


def test_a_phone_field_is_masked_whatever_its_format():
    # A township leader's page and export showed 88886666, 139.1234.5678 and 139_1234_5678 as written: the phone
    # field went through scrub, which masks only the formats it recognises in free text.
    mask = masker("masked", ())
    shown = {value: mask("phone", value) for value in ("88886666", "139.1234.5678", "139_1234_5678", "1391234567")}
    assert shown == {
        "88886666": "****6666",
        "139.1234.5678": "139****5678",  # dotted groups are a format scrub knows (dashboard/privacy.py _GAP)
        "139_1234_5678": "139_****_5678",
        "1391234567": "******4567",
    }
    assert mask("phone", "一三九一二三四五六七八") == "***"
    assert mask("phone", "13812341234") == "138****1234" and masker("open", ())("phone", "88886666") == "88886666"
