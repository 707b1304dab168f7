"""De-identification: detectors, redaction, the scanner, and planted identifiers never reaching processed data."""
from __future__ import annotations

import dataclasses
import json
import re
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.study.deidentify import (
    TAGS,
    Finding,
    coarsen_to_day,
    find_identifiers,
    id_card_check_digit,
    identifier_spans,
    is_identifier_column,
    mask_identifiers,
    name_like_column,
    pseudonym,
    redact,
    scan_for_identifiers,
    scrub_text,
    valid_id_card,
)
from analysis.study.exports import write_export
from analysis.study.ingest import ingest
from analysis.study.instrument import load_instrument
from analysis.study.simulate import simulate_sample

INST = load_instrument()
ROOT = Path(__file__).resolve().parents[1]

ID18 = "11010519491231002X"          # the GB 11643-1999 example number
ID18_HENAN = "41019919800101123" + id_card_check_digit("41019919800101123")
ID15 = "410105800101123"             # old style: province 41, born 1980-01-01


def kinds(text):
    return [k for k, _ in find_identifiers(text)]


# --------------------------------------------------------------------------
# detectors
# --------------------------------------------------------------------------
@pytest.mark.parametrize("text,expected", [
    ("联系电话13912345678", ["mobile"]),
    ("tel: 19912345678.", ["mobile"]),
    ("12912345678", []),                      # 1 then 2: not a mobile prefix
    ("139123456789", []),                     # 12 digits: part of a longer number
    ("0.13912345678", []),                    # a decimal
    ("13912345678.25", []),                   # a decimal
    ("sha256 a13912345678f0c9", []),          # inside a hex hash
    ("身份证11010519491231002X", ["id_card"]),
    ("11010519491231002x", ["id_card"]),
    ("110105194912310021", []),               # wrong checksum
    ("110105194913310029", []),               # month 13
])
def test_find_identifiers(text, expected):
    assert kinds(text) == expected


@pytest.mark.parametrize("text,value", [
    ("13912345678", "13912345678"),
    ("+8613912345678", "+8613912345678"),
    ("＋86 139 1234 5678", "＋86 139 1234 5678"),
    ("+86-139-1234-5678", "+86-139-1234-5678"),
    ("0086 13912345678", "0086 13912345678"),
    ("0086-139-1234-5678", "0086-139-1234-5678"),
    ("86-13912345678", "86-13912345678"),
    ("(+86)13912345678", "(+86)13912345678"),
    ("手机：139 1234 5678。", "139 1234 5678"),
    ("手机139-1234-5678", "139-1234-5678"),
    ("手机139－1234－5678", "139－1234－5678"),        # full-width dashes
    ("电话１３９１２３４５６７８", "１３９１２３４５６７８"),   # full-width digits
    ("１３９　１２３４　５６７８", "１３９　１２３４　５６７８"),  # full-width digits and spaces
    ("call me at 15012345678!", "15012345678"),
    ("有事可联系我17626582794", "17626582794"),
])
def test_mobile_written_forms(text, value):
    assert find_identifiers(text) == [("mobile", value)]


@pytest.mark.parametrize("text,value", [
    ("电话：010-62345678", "010-62345678"),
    ("座机021-2345678", "021-2345678"),
    ("(0371)63456789", "(0371)63456789"),
    ("（0371）63456789", "（0371）63456789"),
    ("（0371）6345-6789", "（0371）6345-6789"),
    ("0371 63456789", "0371 63456789"),
    ("037163456789", "037163456789"),
    ("０３７１－６３４５６７８９", "０３７１－６３４５６７８９"),
])
def test_landline_written_forms(text, value):
    assert find_identifiers(text) == [("landline", value)]


@pytest.mark.parametrize("text,value", [
    ("身份证：" + ID18, ID18),
    (ID18.lower(), ID18.lower()),
    (ID18_HENAN, ID18_HENAN),
    ("１１０１０５１９４９１２３１００２Ｘ", "１１０１０５１９４９１２３１００２Ｘ"),
    ("老身份证 " + ID15 + " 已换", ID15),
    ("１１０１０５４９１２３１００２", "１１０１０５４９１２３１００２"),   # 15 digits, full width
])
def test_id_card_forms(text, value):
    assert find_identifiers(text) == [("id_card", value)]


def test_id_number_is_not_also_a_phone():
    # an ID number that contains a mobile-shaped run is one id_card span, nothing else
    body = "41010519800101139"      # ...19800101139...: an 11-digit run shaped like a mobile number
    full = body + id_card_check_digit(body)
    assert valid_id_card(full)
    assert identifier_spans(f"证件{full}") == [("id_card", 2, 20)]


@pytest.mark.parametrize("text,value", [
    ("邮箱：zhang.san@example.com", "zhang.san@example.com"),
    ("mail wang_li+survey@mail.example.org.", "wang_li+survey@mail.example.org"),
    ("ＱＱ邮箱 12345678@qq.com", "12345678@qq.com"),
])
def test_email(text, value):
    assert find_identifiers(text) == [("email", value)]


@pytest.mark.parametrize("text,value", [
    ("微信：wang_li88", "wang_li88"),
    ("微信号是 wangli", "wangli"),
    ("微信号：wangli", "wangli"),
    ("加我微信zhang-3344", "zhang-3344"),
    ("V信 abc_12345", "abc_12345"),
    ("加我vx abc12345", "abc12345"),
    ("VX：zhangsan", "zhangsan"),
    ("wx: lisi_1990", "lisi_1990"),
    ("WeChat: wangwei2024", "wangwei2024"),
    ("我的 wxid_abcd1234 请加", "wxid_abcd1234"),
])
def test_wechat(text, value):
    assert find_identifiers(text) == [("wechat", value)]


@pytest.mark.parametrize("text,value", [
    ("郑州市示例路12号3栋2单元", "郑州市示例路12号3栋2单元"),
    ("我家住郑州市示例路175号28栋4单元,楼道灭火器过期了", "郑州市示例路175号28栋4单元"),
    ("我住在河南省郑州市金水区文化路56号院3号楼2单元501室", "河南省郑州市金水区文化路56号院3号楼2单元501室"),
    ("地址：金水区文化路56号", "金水区文化路56号"),
    ("住阳光小区5号楼", "阳光小区5号楼"),
    ("3栋2单元501室漏水", "3栋2单元501室"),
    ("5号楼12层", "5号楼12层"),
    ("2单元301室", "2单元301室"),
    ("三栋二单元", "三栋二单元"),
    ("中山路十二号", "中山路十二号"),
    ("１２号楼３单元５０２室", "１２号楼３单元５０２室"),
    ("花园路8号", "花园路8号"),
])
def test_address(text, value):
    assert find_identifiers(text) == [("address", value)]


@pytest.mark.parametrize("text,value", [
    ("IP 192.168.1.1", "192.168.1.1"),
    ("192.0.2.149(河南-南阳)", "192.0.2.149"),
    ("from 203.0.113.7:8080", "203.0.113.7"),
    ("2001:db8::1:2", "2001:db8::1:2"),
    ("addr 2001:0db8:85a3:0000:0000:8a2e:0370:7334 end", "2001:0db8:85a3:0000:0000:8a2e:0370:7334"),
    ("fe80::1ff:fe23:4567:890a", "fe80::1ff:fe23:4567:890a"),
])
def test_ip(text, value):
    assert find_identifiers(text) == [("ip", value)]


@pytest.mark.parametrize("text,value", [
    ("经纬度：34.7466,113.6253", "34.7466,113.6253"),
    ("113.6253, 34.7466", "113.6253, 34.7466"),
    ("坐标 34.746612 113.625300", "34.746612 113.625300"),
    ("34.7466、113.6253", "34.7466、113.6253"),
    ("34.7466，113.6253", "34.7466，113.6253"),
    ("34.7466 113.6253 102.5 4.9", "34.7466 113.6253 102.5 4.9"),   # KoboToolbox geopoint
    ("[34.7466, 113.6253]", "34.7466, 113.6253"),
])
def test_coordinates(text, value):
    assert find_identifiers(text) == [("coordinates", value)]


@pytest.mark.parametrize("text,value", [
    ("我叫王伟", "王伟"),
    ("我叫王伟，电话见下", "王伟"),
    ("联系人：张三丰", "张三丰"),
    ("联系人李秀刚,电话", "李秀刚"),
    ("联系人欧阳娜娜。", "欧阳娜娜"),
    ("本人李娜", "李娜"),
    ("姓名：司马光", "司马光"),
    ("名字是诸葛亮", "诸葛亮"),
    ("我是王小明住在金水区", "王小明"),
    ("有事找刘敏", "刘敏"),
])
def test_name_after_cue(text, value):
    assert find_identifiers(text) == [("name", value)]


def test_name_before_a_phone_cue():
    assert find_identifiers("我叫王伟电话13912345678") == [("name", "王伟"), ("mobile", "13912345678")]


@pytest.mark.parametrize("text", [
    # numbers that are not phones, IDs or IPs
    "p = 0.13912345678", "p < .001", "0.0371 63456789", "0371-12345678", "010-1234567",
    "hash a13912345678f0c9", "sha 3f2a13912345678", "commit 139123456789abcdef",
    "version 0.6.14", "Python 3.11.7", "v1.2.3.4", "1.2.3.4.5", "1.2.3.4", "0.1.2.3", "pandas==2.2.1.0",
    "http://127.0.0.1:8000/", "netmask 255.255.255.0", "0.0.0.0", "section 2.10.3.1.4",
    "M0 0c6.53-13.47 10.1.9.34 1.17.81 5.21-.81", "a37 37 0 0 1 139.3-46.3.8.9 31.9 102.2",   # SVG path data
    "2024-05-12", "2024/05/12 12:30:45", "12:30:45", "std::vector", "a::b", "::1", "fe80::1",
    "ISBN 978-7-111-12345-6", "ISBN 7-111-12345-2", "doi:10.1080/10705519909540118", "9787111123456",
    "n = 139 out of 1234", "242400410534", "项目编号 242400410534", "2024051212304512",
    "110105194912310021", "410105801301123", "990105800101123",
    # decimals and pairs of decimals that are not coordinates
    "0.8234,0.7765", "1.2345,2.3456", "34.75,113.62", "113.2345", "34.5678",
    "M 34.7466 113.6253 L 35.1 114.2", "[34.7466, 113.6253, 12.5]", "12.3456 34.5678 113.6253",
    "RMSEA 0.0456, CFI 0.9612",
    # e-mail-like but not e-mail
    "@article{hu1999cutoff,", "a@b", "name@localhost", "npm i pkg@1.2.3",
    # place names, institutions and answer labels
    "郑州市金水区", "河南省", "河南省郑州市", "大河网", "郑州", "洛阳", "开封", "金水区文化路", "第3栋", "3号楼前",
    "比较同意", "非常同意", "一般", "居民", "网格员", "社区干部", "志愿者", "老旧小区", "男", "女", "是", "否",
    # cues without a name
    "我是志愿者", "我是居民", "我是高中生", "我是郑州人", "联系方式。", "联系方便", "寻找高质量数据",
    "本人认为很好", "名字不重要", "找不到人", "联系电话：", "在表 5.4 中找到最大的 HTMT 值。",
    # WeChat cue without an id
    "微信群", "微信公众号", "WeChat nickname", "wxPython", "加微信", "vx.Frame",
])
def test_not_identifiers(text):
    assert find_identifiers(text) == [], find_identifiers(text)


def test_spans_are_sorted_and_disjoint():
    text = f"我叫王伟，电话+86 139 1234 5678，身份证{ID18}，邮箱 a.b@example.com，住郑州市示例路12号3栋2单元，IP 192.0.2.9"
    spans = identifier_spans(text)
    assert [k for k, _, _ in spans] == ["name", "mobile", "id_card", "email", "address", "ip"]
    assert all(e1 <= s2 for (_, _, e1), (_, s2, _) in zip(spans, spans[1:]))
    assert text[spans[2][1]:spans[2][2]] == ID18


# --------------------------------------------------------------------------
# redaction
# --------------------------------------------------------------------------
def test_tags():
    assert TAGS == {"name": "[姓名]", "mobile": "[电话]", "landline": "[电话]", "id_card": "[身份证]",
                    "email": "[邮箱]", "wechat": "[微信]", "address": "[地址]", "ip": "[IP]",
                    "coordinates": "[坐标]"}


def test_redact_replaces_by_tags_and_counts():
    text = (f"我叫王伟，手机139-1234-5678，座机(0371)63456789，身份证{ID18}，邮箱 a.b@example.com，"
            "微信：wang_li88，住郑州市示例路12号3栋2单元，IP 192.0.2.9，位置 34.7466,113.6253")
    out, counts = redact(text)
    assert out == ("我叫[姓名]，手机[电话]，座机[电话]，身份证[身份证]，邮箱 [邮箱]，微信：[微信]，住[地址]，IP [IP]，"
                   "位置 [坐标]")
    assert counts == Counter({"[电话]": 2, "[姓名]": 1, "[身份证]": 1, "[邮箱]": 1, "[微信]": 1, "[地址]": 1,
                              "[IP]": 1, "[坐标]": 1})
    assert redact("社区很好，希望多组织活动") == ("社区很好，希望多组织活动", Counter())
    assert redact("") == ("", Counter())


def test_scrub_and_mask():
    assert scrub_text("请联系13912345678") == "请联系[电话]"
    assert scrub_text("没有意见") == "没有意见"
    assert scrub_text(None) is None
    assert scrub_text(3.5) == 3.5
    assert mask_identifiers("PL1: out of range ('13912345678')") == "PL1: out of range ('[电话]')"


def test_redact_is_fast():
    cells = ["希望加强网格员队伍建设", "", "2023年7月暴雨时社区反应很快，3号楼的老人都被转移了", "希望物业多联系居民",
             "我家住郑州市示例路175号28栋4单元,楼道灭火器过期了", "联系人李秀刚,电话139-9234-3547", "good"] * 5000
    start = time.perf_counter()
    out = [redact(c)[0] for c in cells]
    assert time.perf_counter() - start < 5.0   # ~35,000 cells; typically well under a second
    assert "139-9234-3547" not in "".join(out)


# --------------------------------------------------------------------------
# columns
# --------------------------------------------------------------------------
def test_id_card_checksum_known_value():
    # GB 11643-1999 example number
    assert id_card_check_digit("11010519491231002") == "X"
    body = "41019919800101123"
    full = body + id_card_check_digit(body)
    assert valid_id_card(full)
    wrong = body + ("0" if full[-1] != "0" else "1")
    assert not valid_id_card(wrong)
    assert not valid_id_card("41019919800230123" + id_card_check_digit("41019919800230123"))   # 30 February


def test_identifier_columns():
    for h in ("来源IP", "来源详情", "微信昵称", "30、填写人手机号码", "填写人身份证号码", "phone", "respondent_name",
              "_uuid", "deviceid", "address", "联系人", "填写人", "姓名", "手机号", "联系电话", "座机", "身份证号",
              "证件号码", "家庭住址", "详细地址", "门牌号", "微信号", "邮箱", "E-mail", "IP", "经纬度", "坐标",
              "定位", "latitude", "longitude", "lat", "lon", "gps", "_geolocation", "geopoint", "location_gps"):
        assert is_identifier_column(h), h
    for h in ("PL1", "所在城市", "community_type", "duration_s", "社区类型", "description", "2、所在社区编码(由调查员提供)",
              "5、您在社区中的身份", "latent", "along", "salon", "recipient", "skip", "attention_check"):
        assert not is_identifier_column(h), h


def test_name_like_column():
    names = ["王伟", "李娜", "张秀英", "欧阳娜娜", "刘洋", "陈静"]
    assert name_like_column("contact", names)
    assert name_like_column("备注", names[:3] + ["", None, "无"])             # empty values do not count
    assert name_like_column("填写人姓名", [])                                  # the header names a person
    assert name_like_column("联系人", ["x"])
    assert name_like_column("respondent_name", [])
    # the trap: city names begin with a surname character
    assert not name_like_column("city", ["郑州", "洛阳", "开封", "郑州", "南阳", "新乡", "许昌", "周口"])
    assert not name_like_column("x", ["郑州市", "洛阳市", "开封市"])
    assert not name_like_column("role", ["居民", "网格员", "社区干部", "志愿者", "居民"])
    assert not name_like_column("answer", ["比较同意", "非常同意", "一般", "比较不同意", "男", "女", "是", "否"])
    assert not name_like_column("type", ["老旧小区", "商品房", "单位小区", "混合型"])
    assert not name_like_column("edu", ["高中", "初中", "小学", "大专", "本科", "高中"])
    assert not name_like_column("x", ["王伟", "李娜"])                         # fewer than three
    assert not name_like_column("x", ["王伟", "李娜", "张秀英", "PL1", "PL2", "PL3", "PL4"])   # fewer than half
    # bare "name" columns in results tables and XLSForms name things, not people
    assert not name_like_column("name", ["PL1", "PL2", "consent"])
    assert not name_like_column("name_zh", ["党组织引领", "网格化治理", "资源统筹"])
    assert not name_like_column("社区名字", ["阳光社区", "金水社区", "文化社区"])


# --------------------------------------------------------------------------
# findings never carry the value
# --------------------------------------------------------------------------
def test_finding_never_shows_the_value(tmp_path):
    values = ["13912345678", ID18, ID15, "zhang.san@example.com", "192.0.2.149", "郑州市示例路12号3栋2单元",
              "010-62345678", "34.7466,113.6253"]
    header = "13800001111"          # a header that is itself an identifier
    (tmp_path / "t.csv").write_text(f"id,{header}\n" + "".join(f"{i},{v}\n" for i, v in enumerate(values)),
                                    encoding="utf-8")
    (tmp_path / "t.txt").write_text("\n".join(values), encoding="utf-8")
    found = scan_for_identifiers([tmp_path])
    assert len(found) >= 2 * len(values)
    assert [f.__dataclass_fields__.keys() for f in found][0] == {"path", "kind", "location"}
    runs = {r for v in values + [header] for r in re.findall(r"\d{4,}", v)}
    for f in found:
        shown = [str(f), f.kind, f.location, f.path.replace(str(tmp_path), "")]
        for text in shown:
            for v in values + [header]:
                assert v not in text
            for run in runs:
                assert run not in text, (run, text)
            assert "*" not in text
    assert str(found[0]) == f"{found[0].path}: {found[0].location}: {found[0].kind}"
    with pytest.raises(dataclasses.FrozenInstanceError):
        found[0].kind = "x"


def test_finding_str():
    assert str(Finding("a/b.csv", "mobile", "row 3, column 电话")) == "a/b.csv: row 3, column 电话: mobile"


# --------------------------------------------------------------------------
# the scanner
# --------------------------------------------------------------------------
def _short(found):
    return sorted((Path(f.path).name, f.location, f.kind) for f in found)


def test_scanner_reads_every_file_kind(tmp_path):
    (tmp_path / "a.csv").write_text("x,y\n1,13912345678\n", encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps({"id": "11010519491231002X"}), encoding="utf-8")
    (tmp_path / "c.html").write_text("<html>\n<p>call 15012345678</p>\n</html>", encoding="utf-8")
    (tmp_path / "gbk.txt").write_bytes("电话:13812345678".encode("gb18030"))
    pd.DataFrame({"phone": [13712345678, 1]}).to_parquet(tmp_path / "d.parquet")
    (tmp_path / "clean.csv").write_text("p\n0.13912345678\n", encoding="utf-8")
    (tmp_path / "img.png").write_bytes(b"\x89PNG\x00\x0013912345678")
    (tmp_path / "noext").write_text("ip 203.0.113.5\n", encoding="utf-8")
    found = scan_for_identifiers([tmp_path])
    assert _short(found) == [
        ("a.csv", "row 2, column y", "mobile"),
        ("b.json", "line 1", "id_card"),
        ("c.html", "line 2", "mobile"),
        ("d.parquet", "row 2, column phone", "mobile"),
        ("gbk.txt", "line 1", "mobile"),
        ("noext", "line 1", "ip"),
    ]


def test_scan_csv_locations(tmp_path):
    rows = [["resp", "备注", "city", "contact"],
            ["R1", "无", "郑州", "王伟"],
            ["R2", "我家住郑州市示例路12号3栋2单元", "洛阳", "李娜"],
            ["R3", "电话 139 1234 5678", "开封", "张秀英"],
            ["R4", "multi\nline 0371-63456789", "郑州", ""]]
    pd.DataFrame(rows[1:], columns=rows[0]).to_csv(tmp_path / "s.csv", index=False)
    found = scan_for_identifiers([tmp_path / "s.csv"])
    assert _short(found) == sorted([
        ("s.csv", "row 3, column 备注", "address"),
        ("s.csv", "row 4, column 备注", "mobile"),
        ("s.csv", "row 5, column 备注", "landline"),   # a quoted cell spanning two lines is one row
        ("s.csv", "row 2, column contact", "name"),
        ("s.csv", "row 3, column contact", "name"),
        ("s.csv", "row 4, column contact", "name"),
    ])


def test_scan_csv_delimiters_and_encodings(tmp_path):
    (tmp_path / "t.tsv").write_text("a\tb\n1\t13912345678\n", encoding="utf-8")
    (tmp_path / "semi.csv").write_text("a;手机\n1;13912345678\n", encoding="utf-8")
    (tmp_path / "gbk.csv").write_bytes("序号,联系电话\n1,13912345678\n".encode("gb18030"))
    (tmp_path / "bom.csv").write_text("序号,备注\n1,13912345678\n", encoding="utf-8-sig")
    found = scan_for_identifiers([tmp_path])
    assert _short(found) == sorted([
        ("t.tsv", "row 2, column b", "mobile"),
        ("semi.csv", "row 2, column 手机", "mobile"),
        ("gbk.csv", "row 2, column 联系电话", "mobile"),
        ("bom.csv", "row 2, column 备注", "mobile"),
    ])


def test_scan_header_holding_an_identifier(tmp_path):
    (tmp_path / "h.csv").write_text("id,13912345678\n1,2\n", encoding="utf-8")
    found = scan_for_identifiers([tmp_path / "h.csv"])
    assert _short(found) == [("h.csv", "row 1, column [电话]", "mobile")]


def test_scan_identifier_columns_by_header(tmp_path):
    # a WeChat nickname such as 测试用户000123 is caught by its column's header only
    (tmp_path / "w.csv").write_text("序号,微信昵称,所在城市\n1,测试用户000123,郑州\n2,,洛阳\n", encoding="utf-8")
    assert _short(scan_for_identifiers([tmp_path])) == [("w.csv", "row 2, column 微信昵称", "wechat")]
    (tmp_path / "w.csv").unlink()
    (tmp_path / "k.csv").write_text("deviceid,IP地址,座机电话,_geolocation,name,名字\n"
                                    "ee.kobo.org:abc,x,y,z,PL1,甲\nN/A,,,,,\n", encoding="utf-8")
    assert _short(scan_for_identifiers([tmp_path])) == sorted([
        ("k.csv", "row 2, column deviceid", "account"), ("k.csv", "row 2, column IP地址", "ip"),
        ("k.csv", "row 2, column 座机电话", "landline"), ("k.csv", "row 2, column _geolocation", "coordinates"),
        ("k.csv", "row 2, column 名字", "name")])   # a bare "name" column names items; N/A is empty


def test_scan_xlsx_every_sheet(tmp_path):
    path = tmp_path / "w.xlsx"
    with pd.ExcelWriter(path) as xw:
        pd.DataFrame({"a": [1, 2], "备注": ["好", "微信：wang_li88"]}).to_excel(xw, sheet_name="one", index=False)
        pd.DataFrame({"phone_no": [13912345678, 5], "note": ["x", "y"]}).to_excel(xw, sheet_name="two", index=False)
        pd.DataFrame({"姓名": ["王伟"], "age": [30]}).to_excel(xw, sheet_name="three", index=False)
    assert _short(scan_for_identifiers([path])) == sorted([
        ("w.xlsx", "sheet one, row 3, column 备注", "wechat"),
        ("w.xlsx", "sheet two, row 2, column phone_no", "mobile"),
        ("w.xlsx", "sheet three, row 2, column 姓名", "name"),
    ])


def test_scan_parquet_numeric_rule(tmp_path):
    frame = pd.DataFrame({
        "score": [1.5, 2.0, 3.25],
        "big": [1_000_000, 2_000_000, 13912345678],        # only whole numbers >= 1e6 are candidates
        "float_phone": [np.nan, 13912345678.0, 1.0],
        "id15": [410105800101123, 0, 1],
        "pvalue": [0.13912345678, 0.5, 0.01],
        "flag": [True, False, True],
        "text": ["a", None, "IP 192.0.2.1"],
    })
    frame.to_parquet(tmp_path / "p.parquet")
    assert _short(scan_for_identifiers([tmp_path])) == sorted([
        ("p.parquet", "row 4, column big", "mobile"),
        ("p.parquet", "row 3, column float_phone", "mobile"),
        ("p.parquet", "row 2, column id15", "id_card"),
        ("p.parquet", "row 4, column text", "ip"),
    ])


def test_scan_sav(tmp_path):
    pyreadstat = pytest.importorskip("pyreadstat")
    frame = pd.DataFrame({"q1": [1.0, 2.0], "note": ["ok", "邮箱 a.b@example.com"]})
    pyreadstat.write_sav(frame, str(tmp_path / "s.sav"))
    assert _short(scan_for_identifiers([tmp_path])) == [("s.sav", "row 3, column note", "email")]


def test_scan_docx(tmp_path):
    import zipfile

    body = ("<w:document><w:body><w:p><w:r><w:t>问卷</w:t></w:r></w:p>"
            "<w:p><w:r><w:t>联系人：</w:t></w:r><w:r><w:t xml:space=\"preserve\">张三丰 13912345678</w:t></w:r></w:p>"
            "</w:body></w:document>")
    with zipfile.ZipFile(tmp_path / "q.docx", "w") as z:
        z.writestr("word/document.xml", body)
    assert _short(scan_for_identifiers([tmp_path])) == [("q.docx", "paragraph 2", "mobile"),
                                                        ("q.docx", "paragraph 2", "name")]


def test_scan_unreadable_and_binary(tmp_path):
    (tmp_path / "bad.parquet").write_bytes(b"not a parquet file")
    (tmp_path / "bad.xlsx").write_bytes(b"not a workbook")
    (tmp_path / "font.woff2").write_bytes(b"wOF2\x00\x0113912345678")
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01\x0213912345678")
    found = scan_for_identifiers([tmp_path])
    assert sorted((Path(f.path).name, f.kind) for f in found) == [("bad.parquet", "unreadable"),
                                                                   ("bad.xlsx", "unreadable")]
    assert all(f.location and " " not in f.location for f in found)   # the exception type


def test_scan_missing_path_and_single_path(tmp_path):
    assert scan_for_identifiers([tmp_path / "missing"]) == []
    (tmp_path / "n.md").write_text("联系人：张三丰\n", encoding="utf-8")
    assert _short(scan_for_identifiers(tmp_path / "n.md")) == [("n.md", "line 1", "name")]


# --------------------------------------------------------------------------
# planted identifiers shaped like the simulator's
# --------------------------------------------------------------------------
def test_simulated_identifiers_are_detected():
    data = simulate_sample(60, 6, 11, instrument=INST).data
    for col, kind in (("pii_phone", "mobile"), ("pii_id_card", "id_card"), ("pii_ip", "ip"),
                      ("pii_address", "address")):
        for value in data[col].unique():
            assert find_identifiers(str(value)) == [(kind, str(value))], (col, value)
    assert name_like_column("x", data["pii_name"].tolist())
    for text in data["suggestion"].dropna().unique() if "suggestion" in data else []:
        clean = redact(text)[0]
        for col in ("pii_name", "pii_phone", "pii_address"):
            for value in data[col].unique():
                assert value not in clean
        assert not re.search(r"\d{3}-\d{4}-\d{4}", clean)


def test_no_false_positives_in_project_outputs():
    targets = [ROOT / "results", ROOT / "book", ROOT / "survey" / "generated", ROOT / "data" / "processed"]
    found = scan_for_identifiers([t for t in targets if t.exists()])
    assert found == [], [str(f) for f in found[:20]]


def test_coarsen_and_pseudonym():
    got = coarsen_to_day(["2024/5/6 07:06:52", "2024-05-06T23:59:59.000+08:00", "", "not a date"]).tolist()
    assert got == ["2024-05-06", "2024-05-06", None, None]
    assert pseudonym(1) == "R00001" and pseudonym(12345) == "R12345"


@pytest.mark.parametrize("fmt,name", [("wjx", "w.csv"), ("kobo", "k.csv"), ("csv", "c.csv"), ("wjx", "w.xlsx")])
def test_planted_identifiers_never_reach_processed_data(fmt, name, tmp_path):
    sample = simulate_sample(80, 8, 123, instrument=INST)
    raw = write_export(sample.data, fmt, tmp_path / name, INST)
    assert scan_for_identifiers([raw]), "the raw export should carry planted identifiers"
    out = tmp_path / "processed"
    ingest(raw, out, instrument=INST)
    assert scan_for_identifiers([out]) == []
    text = "\n".join(p.read_text(encoding="utf-8") for p in out.glob("*.csv"))
    text += (out / "ingest_report.json").read_text(encoding="utf-8")
    text += pd.read_parquet(out / "responses.parquet").to_csv()
    for col in ("pii_name", "pii_phone", "pii_id_card", "pii_ip", "pii_address", "pii_wechat"):
        for value in sample.data[col].unique():
            assert value not in text, (col, value)
    # full timestamps are coarsened to the day
    for t in sample.data["submitted"].head(20):
        assert t.strftime("%H:%M:%S") not in text
