"""De-identification of raw survey exports, and a scanner for identifiers.

Survey data in this project are personal information under China's Personal
Information Protection Law (PIPL); direct identifiers must never leave
``data/raw/``.  Ingestion keeps only the columns the instrument defines (item
codes, the attention check, context variables), the completion time in
seconds and the submission *day*; everything a platform adds around them
(name, phone, ID card, IP address, free-text address, WeChat nickname,
device and submission ids, timestamps finer than a day) is dropped before
anything is written.  The functions here name those columns, coarsen
timestamps, give rows a pseudonymous id, and replace identifiers that a
respondent typed into a kept free-text field by a tag such as ``[电话]``.

Detection works by *content*, not only by column name: the same detectors
(:func:`identifier_spans`) serve ingestion (:func:`redact`, which also
cleans every message and report string) and :func:`scan_for_identifiers`,
the last line of defence that the pipeline and ``resilience scan`` run over
processed data, results and the built book.  A :class:`Finding` names the
kind, file, row and column (or line) of an identifier and never the
identifier itself, not even partially masked.

Examples
--------
>>> redact("我叫王伟，电话 139-1234-5678，住郑州市示例路12号3栋2单元")[0]
'我叫[姓名]，电话 [电话]，住[地址]'
"""
from __future__ import annotations

import csv
import datetime as _dt
import io
import ipaddress
import math
import re
import zipfile
from collections import Counter
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "Finding",
    "TAGS",
    "IDENTIFIER_HEADER_WORDS",
    "SURNAMES",
    "COMPOUND_SURNAMES",
    "is_identifier_column",
    "name_like_column",
    "coarsen_to_day",
    "pseudonym",
    "id_card_check_digit",
    "valid_id_card",
    "identifier_spans",
    "find_identifiers",
    "redact",
    "scrub_text",
    "mask_identifiers",
    "scan_for_identifiers",
]

#: The tag that replaces an identifier of each kind in redacted text.
TAGS: dict[str, str] = {
    "name": "[姓名]",
    "mobile": "[电话]",
    "landline": "[电话]",
    "id_card": "[身份证]",
    "email": "[邮箱]",
    "wechat": "[微信]",
    "address": "[地址]",
    "ip": "[IP]",
    "coordinates": "[坐标]",
}

#: Words that mark a column as an identifier when they appear in its header.
IDENTIFIER_HEADER_WORDS = (
    # Chinese
    "姓名", "名字", "联系人", "填写人", "手机", "电话", "座机", "联系方式", "身份证", "证件", "住址", "地址",
    "门牌", "昵称", "微信", "QQ", "邮箱", "电子邮件", "IP", "来源详情", "设备", "经纬度", "坐标", "定位",
    "地理位置", "GPS",
    # English / platform metadata
    "name", "phone", "mobile", "tel", "telephone", "landline", "id_card", "idcard", "id_number", "passport",
    "address", "street", "nickname", "wechat", "weixin", "email", "e-mail", "mail", "deviceid", "imei",
    "simserial", "subscriberid", "_uuid", "instanceid", "_submitted_by", "username", "gps", "geopoint",
    "geotrace", "geoshape", "location", "latitude", "longitude", "lat", "lon", "lng", "coordinates", "coords",
    "ip_address", "ipaddress",
)
# Header words matched only as whole ASCII tokens (they occur inside other words).
_SHORT_HEADER_WORDS = {"tel", "ip", "qq", "name", "mail", "lat", "lon", "lng", "gps"}

# --------------------------------------------------------------------------
# surnames and words that look like names but are not
# --------------------------------------------------------------------------
#: About 150 of the most common single-character Chinese surnames.
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩邓冯曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢"
    "姚沈钟姜崔谭陆范汪廖石金韦贾夏付傅方邹熊白孟秦邱侯江尹薛闫阎段雷龙黎史陶贺毛郝顾龚邵万钱严覃武戴莫孔"
    "向常汤康易乔赖文施洪辛柯庄樊葛牛邢安齐颜倪聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮纪梅童凌"
    "毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连"
)
#: Common compound (two-character) surnames.
COMPOUND_SURNAMES = frozenset((
    "欧阳", "司马", "诸葛", "上官", "司徒", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "夏侯", "长孙",
    "宇文", "端木", "独孤", "南宫", "西门", "呼延", "轩辕", "澹台", "公羊", "闻人", "万俟", "钟离", "申屠",
))

# Places whose names begin with a surname character (the city and district
# names of this study first), and common words and answer labels that do.
_PLACE_WORDS = (
    "郑州 洛阳 开封 新乡 南阳 平顶山 安阳 鹤壁 焦作 濮阳 许昌 漯河 三门峡 商丘 信阳 周口 驻马店 济源 "
    "中原 二七 管城 金水 上街 惠济 巩义 荥阳 新密 新郑 登封 中牟 郑东 高新 经开 航空港 "
    "河南 河北 山东 山西 湖南 湖北 广东 广西 江苏 江西 浙江 安徽 福建 四川 贵州 云南 陕西 甘肃 青海 "
    "辽宁 吉林 黑龙江 内蒙古 宁夏 新疆 西藏 海南 台湾 香港 澳门 中国 全国 "
    "北京 上海 天津 重庆 广州 深圳 武汉 南京 杭州 成都 西安 长沙 济南 石家庄 太原 合肥 南昌 福州 "
    "昆明 贵阳 南宁 兰州 西宁 银川 拉萨 呼和浩特 哈尔滨 长春 沈阳 大连 青岛 厦门 苏州 宁波 无锡 海口 "
    "乌鲁木齐 温州 常州 徐州 唐山 邯郸 保定 洛宁 林州 汤阴 叶县 金华 嘉兴 扬州 泉州 佛山 东莞 黄河 "
    "长江 黄山 华山 嵩山 龙门 少林 白马寺 古城 江南 华北 华中 华南 东北 西北 西南"
).split()
_COMMON_WORDS = (
    # answer labels and roles (most do not start with a surname, listed for clarity)
    "比较同意 非常同意 同意 一般 比较不同意 非常不同意 不同意 居民 网格员 社区干部 志愿者 老旧小区 是 否 男 女 "
    "党员 群众 商品房 单位 单位小区 混合型 安置房 安置小区 农村 城市 城中村 高中 初中 小学 中专 大专 本科 "
    "研究生 博士 硕士 文盲 退休 离退休 高龄 老人 高层 时间 时候 "
    # frequent words beginning with a surname character
    "王国 李子 张贴 张开 陈述 陈旧 陈列 黄色 黄金 周末 周边 周围 周期 周一 周二 周三 周四 周五 周六 周日 "
    "周年 周到 孙子 孙女 马上 马路 胡同 何时 何况 何处 何必 何种 高兴 高校 高度 高于 高速 高效 高铁 "
    "高质量 高水平 高峰 高温 高楼 林业 郑重 谢谢 谢绝 许多 许可 韩国 曾经 田地 董事 于是 于此 余下 余额 "
    "杜绝 叶子 程度 程序 任何 任务 任意 钟点 陆续 范围 金额 金钱 金融 石头 夏天 夏季 付出 付款 付费 "
    "方式 方便 方法 方面 方向 方案 方针 方可 白天 白色 江苏 段落 史料 黎明 顾客 顾虑 顾问 毛病 万一 "
    "万元 万人 钱款 严重 严格 严肃 武汉 武装 戴口罩 莫名 孔子 向来 向上 向下 向前 常住 常常 常年 常见 "
    "常用 常规 常态 常委 温度 温暖 温馨 康复 施工 施行 文化 文明 文件 文章 文献 文本 文字 文体 文艺 "
    "安全 安静 安排 安装 安置 安心 安全感 齐全 齐心 易于 庞大 颜色 章节 申请 申报 欧洲 关于 关系 关注 "
    "关心 关键 关爱 关怀 兰州 焦虑 焦点 左右 甘肃 包括 包含 宁愿 尚未 尚且 符合 舒适 舒服 舒心 纪律 "
    "纪念 纪委 童年 毕业 毕竟 单身 单元 单独 单纯 季节 季度 成都 成员 成为 成立 成本 成年 成果 成效 "
    "成绩 成熟 成功 曲线 蓝色 路灯 路面 路口 路段 路线 游戏 游客 辛苦 管理 管道 管控 华人 房子 房屋 "
    "房东 房价 房租 房产 解决 解释 解答 尤其 阳光 阳台 时期 时代 时刻 农民 农业 农户 司机 古代 古老 "
    "简单 简便 车辆 车位 车库 项目 连续 连接 龙头 宋体 明显 明确 全部 全体 全面 全员 和谐 和睦 商户 "
    "商业 商铺 师傅 卫生 米面 柏油 宗教 谷歌 盛行 贾平凹 邓小平 毛泽东 马克思 孙中山 鲁迅"
).split()
_NOT_NAME_WORDS = frozenset(_PLACE_WORDS) | frozenset(_COMMON_WORDS)
# A name never ends with (nor contains) these characters.
_NOT_NAME_LAST = frozenset("区市省县镇乡村州路街道员者部会委局站所院校型房意般族户们性度率式法面题")
_NOT_NAME_ANY = frozenset("的了吗呢吧啊不没无有在和与或及是否请您我你他她它这那")

_MISSING_MARKERS = frozenset(("", "-", "--", "—", "na", "n/a", "nan", "none", "null", "(空)", "(跳过)", "（空）",
                              "（跳过）", "无", "空"))

# --------------------------------------------------------------------------
# normalisation: full-width forms and dashes, length preserving
# --------------------------------------------------------------------------
_NORMALIZE = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}  # full-width ASCII -> ASCII
_NORMALIZE.update({0x3000: 0x20, 0x00A0: 0x20, 0x2007: 0x20, 0x202F: 0x20, 0x2212: 0x2D})
_NORMALIZE.update({c: 0x2D for c in range(0x2010, 0x2016)})  # hyphens and dashes


def _normalize(text: str) -> str:
    """Map full-width digits, letters and punctuation to ASCII; same length."""
    return text.translate(_NORMALIZE)


# --------------------------------------------------------------------------
# detectors (on normalised text)
# --------------------------------------------------------------------------
# not inside an alphanumeric token (an underscore separates, as in a file name 张三_13912345678.csv),
# not after a decimal point, not followed by decimals
_START = r"(?<![0-9A-Za-z])(?<!\d\.)"
_END = r"(?![0-9A-Za-z])(?!\.\d)"

_MOBILE = re.compile(
    _START + r"(?:\(?(?:\+|00) ?86\)?[ -]?|86[ -])?1[3-9]\d(?:[ -]?\d{4}){2}" + _END)
_AREA = r"0(?:10|2\d|[3-9]\d{2})"
_LANDLINE = re.compile(
    r"(?<![0-9A-Za-z_.])" + rf"(?:\({_AREA}\)|{_AREA})" + r" ?-? ?[2-9]\d{2,3}[ -]?\d{4}" + _END)
_IDCARD18 = re.compile(_START + r"[1-9]\d{16}[\dXx]" + _END)
_IDCARD15 = re.compile(_START + r"[1-8]\d{14}" + _END)
_PROVINCES = frozenset(("11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
                        "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
                        "65", "71", "81", "82"))
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9-])")
_WECHAT = re.compile(
    r"(?:(?:微信|[vV]信)(?:\s*(?:号|ID|id|账号))?(?P<s1>\s*[:：]\s*|\s*(?:是|为)\s*|\s*)"
    r"|(?<![A-Za-z])(?:[wWvV][xX]|[Ww]e[Cc]hat)(?:\s*(?:号|ID|id))?(?P<s2>\s*[:：]\s*|\s*(?:是|为)\s*|\s+))"
    r"(?P<id>[A-Za-z][A-Za-z0-9_-]{5,19})(?![A-Za-z0-9_-]|@)")
_WXID = re.compile(r"(?<![A-Za-z0-9_])wxid_[A-Za-z0-9_-]{4,32}(?![A-Za-z0-9_-])")

# addresses: house-level only
_N = r"(?:\d{1,5}|[一二三四五六七八九十百千零〇两]{1,6})"
_STOP = "我你他她您住在是的了于到从和与及或家址为号栋幢楼单元室层省市区县镇乡村街道路巷里"
_HAN = rf"[^\x00-\u4dff\ua000-\U0010ffff{_STOP}]"  # a Han character that can be part of a place name
_HEAD_ROAD = rf"{_HAN}{{1,8}}?(?:大街|大道|胡同|路|街|巷|里){_N}号院?"
_HEAD_ESTATE = rf"{_HAN}{{1,10}}?(?:小区|花园|家园|公寓|新村|苑){_N}(?:号楼|栋|幢|号院|号)"
_HEAD_BLOCK = rf"{_N}(?:号楼|栋|幢)(?:{_N}单元(?:{_N}(?:室|号|户))?|{_N}?(?:室|层))"
_HEAD_UNIT = rf"{_N}单元{_N}(?:室|号|户)"
_TAIL = rf"(?:-?{_N}(?:号楼|栋|幢|号院|座))?(?:-?{_N}单元)?(?:-?{_N}(?:室|层|楼|号|户))?"
_ADDRESS = re.compile(rf"(?:{_HEAD_ROAD}|{_HEAD_ESTATE}|{_HEAD_BLOCK}|{_HEAD_UNIT}){_TAIL}")
# administrative names may contain suffix characters (新乡市, 上街区, 镇平县)
_AHAN = r"[^\x00-\u4dff\ua000-\U0010ffff我你他她您住在是的了于到从和与及或家址为号栋幢楼单元室层]"
_ADMIN = (rf"(?:{_AHAN}{{2,3}}?省|{_AHAN}{{2,5}}?自治区)?(?:{_AHAN}{{2,4}}?(?:市|自治州|地区|盟))?"
          rf"(?:{_AHAN}{{1,4}}?(?:区|县|旗))?(?:{_AHAN}{{2,5}}?(?:街道|镇|乡))?(?:{_AHAN}{{2,5}}?(?:社区|村))?")
_ADMIN_CHAIN = re.compile(_ADMIN + r"\Z")

# IP addresses
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(r"(?<![0-9A-Za-z_.=<>~@^])" + rf"(?:{_OCTET}\.){{3}}{_OCTET}" + r"(?![0-9A-Za-z_]|\.\d)")
_IPV6 = re.compile(r"(?<![0-9A-Za-z_:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![0-9A-Za-z_:])")

# coordinates (China's bounding box)
_COORD = re.compile(
    r"(?<![0-9A-Za-z_.-])(?P<a>\d{1,3}\.\d{4,12})(?P<sep>\s*[,、]\s*|[ \t]+)(?P<b>\d{1,3}\.\d{4,12})"
    r"(?P<rest>(?:[ \t]+-?\d+(?:\.\d+)?){1,2})?(?![0-9A-Za-z_]|\.\d)")
_LAT, _LON = (3.8, 53.6), (73.5, 135.1)

# names after a cue
_NAME_CUE = re.compile(r"(?:我叫|我是|本人(?:是|叫)?|姓名|名字|联系人|(?<![寻查])找|联系)\s*(?:[:：]\s*)?(?:是|为|叫)?\s*")
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]{1,8}")
_NAME_TERMINATORS = (
    "电话", "手机", "微信", "身份", "地址", "邮箱", "号码", "联系", "今年", "现年", "年龄", "性别", "先生", "女士",
    "家住", "住在", "住址", "来自", "目前", "现在", "工作", "同志", "老师", "的", "在", "是", "和", "与", "住",
    "家", "说", "也", "就", "吧", "呢", "啊", "了", "我", "岁", "男", "女", "QQ", "qq",
)

# cheap pre-filter: a string without any of these cannot hold an identifier
# (one character class: much faster than an alternation of words)
_MAYBE = re.compile(r"[0-9０-９@＠:：号栋幢室层信xXｘＸCcｃＣ叫是人名联找]")
_HAS_DIGITS = re.compile(r"\d\d")
_HAS_3DIGITS = re.compile(r"\d{3}")
_HAS_ADDRESS = re.compile(r"[\d一二三四五六七八九十百千零〇两](?:号|栋|幢|单元)")
_HAS_WECHAT = re.compile(r"微信|[vV]信|[wWvV][xX]|wechat", re.IGNORECASE)
_HAS_NAME_CUE = re.compile(r"我叫|我是|本人|姓名|名字|联系|找")

# priority on equal length (more specific first)
_PRIORITY = {"id_card": 0, "mobile": 1, "landline": 2, "email": 3, "ip": 4, "coordinates": 5, "wechat": 6,
             "address": 7, "name": 8}


def _valid_date(y: int, m: int, d: int) -> bool:
    try:
        _dt.date(y, m, d)
    except ValueError:
        return False
    return True


def _valid_id15(s: str) -> bool:
    return s[:2] in _PROVINCES and _valid_date(1900 + int(s[6:8]), int(s[8:10]), int(s[10:12]))


def _is_name(candidate: str) -> bool:
    """True if ``candidate`` (2-4 Han characters) looks like a Chinese personal name."""
    n = len(candidate)
    if not 2 <= n <= 4 or not all("\u4e00" <= ch <= "\u9fff" for ch in candidate):
        return False
    if candidate[:2] in COMPOUND_SURNAMES:
        if n < 3:
            return False
    elif candidate[0] not in SURNAMES:
        return False
    if candidate[-1] in _NOT_NAME_LAST or any(ch in _NOT_NAME_ANY for ch in candidate):
        return False
    return not any(candidate[:k] in _NOT_NAME_WORDS for k in range(1, n + 1))


def _name_spans(t: str):
    for cue in _NAME_CUE.finditer(t):
        pos = cue.end()
        run = _HAN_RUN.match(t, pos)
        if run is None:
            continue
        run = run.group()
        length = 0
        for k in range(2, min(4, len(run)) + 1):
            if run.startswith(_NAME_TERMINATORS, k):
                length = k
                break
        else:
            if 2 <= len(run) <= 4:
                length = len(run)
        if length and _is_name(run[:length]):
            yield "name", pos, pos + length


def _coord_ok(t: str, m: re.Match) -> bool:
    a, b = float(m.group("a")), float(m.group("b"))

    def inside(lat, lon):
        return _LAT[0] <= lat <= _LAT[1] and _LON[0] <= lon <= _LON[1]

    if not (inside(a, b) or inside(b, a)):
        return False
    if m.group("rest") and "," in m.group("sep"):
        return False  # a geopoint is space separated
    before = t[:m.start()].rstrip(" \t,")
    if before and (before[-1].isdigit() or before[-1] == "."):
        return False  # part of a longer list of numbers
    if len(before) >= 1 and before[-1] in "MLHVCSQTAZmlhvcsqtaz" and (len(before) == 1 or not before[-2].isalpha()):
        return False  # SVG path data
    after = t[m.end():].lstrip(" \t,")
    if after[:1].isdigit() or (after[:1] == "-" and after[1:2].isdigit()):
        return False
    return True


_NUMBERISH = re.compile(r"-?\.?\d[\d.]*")
_NUMBER_BEFORE = re.compile(r"(?<![\d.])(\.?\d[\d.]*)\s+\Z")
_NUMBER_AFTER = re.compile(r"\s+(-?\.?\d[\d.]*)")
_IPV4_FULL = re.compile(rf"(?:{_OCTET}\.){{3}}{_OCTET}")


def _plain_number(token: str) -> bool:
    """A number (digits and dots, e.g. ``13.47`` or ``1.17.81``) that is not itself a dotted quad."""
    return bool(_NUMBERISH.fullmatch(token)) and not _IPV4_FULL.fullmatch(token)


def _ipv4_ok(t: str, m: re.Match) -> bool:
    octets = [int(o) for o in m.group().split(".")]
    if octets[0] in (0, 127) or octets[0] >= 224:   # "this" network, loopback, multicast, netmasks
        return False
    if all(o < 10 for o in octets):                 # 1.2.3.4: an outline or version number
        return False
    s, e = m.start(), m.end()
    # compact number runs (SVG path data, minified icons): 13.47 10.1.9.34 1.17.81, 139.3-46.3.8.9
    if (s >= 2 and t[s - 1] == "-" and (t[s - 2].isdigit() or t[s - 2] == ".")) or \
            (t[e:e + 1] == "-" and (t[e + 1:e + 2].isdigit() or t[e + 1:e + 2] == ".")):
        return False
    before = _NUMBER_BEFORE.search(t, max(0, s - 40), s)
    after = _NUMBER_AFTER.match(t, e)
    if before and after and _plain_number(before.group(1)) and _plain_number(after.group(1)):
        return False
    return True


def _ipv6_ok(value: str) -> bool:
    if "::" in value:
        if value.count("::") != 1 or sum(1 for g in value.split(":") if g) < 3:
            return False
    elif value.count(":") != 7 or not all(value.split(":")):
        return False
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return False
    return True


def _candidates(t: str):
    """All (kind, start, end) candidates in normalised text ``t``; may overlap."""
    if _HAS_DIGITS.search(t):
        if _HAS_3DIGITS.search(t):
            for m in _IDCARD18.finditer(t):
                if valid_id_card(m.group()):
                    yield "id_card", m.start(), m.end()
            for m in _IDCARD15.finditer(t):
                if _valid_id15(m.group()):
                    yield "id_card", m.start(), m.end()
            for m in _MOBILE.finditer(t):
                yield "mobile", m.start(), m.end()
            for m in _LANDLINE.finditer(t):
                yield "landline", m.start(), m.end()
        if "." in t:
            for m in _IPV4.finditer(t):
                if _ipv4_ok(t, m):
                    yield "ip", m.start(), m.end()
            for m in _COORD.finditer(t):
                if _coord_ok(t, m):
                    yield "coordinates", m.start(), m.end()
    if "::" in t or t.count(":") >= 7:
        for m in _IPV6.finditer(t):
            if _ipv6_ok(m.group()):
                yield "ip", m.start(), m.end()
    if "@" in t:
        for m in _EMAIL.finditer(t):
            yield "email", m.start(), m.end()
    if _HAS_WECHAT.search(t):
        for m in _WECHAT.finditer(t):
            ident = m.group("id")
            sep = m.group("s1") if m.group("s1") is not None else m.group("s2")
            if sep.strip() or any(ch.isdigit() or ch in "_-" for ch in ident):
                yield "wechat", m.start("id"), m.end("id")
        for m in _WXID.finditer(t):
            yield "wechat", m.start(), m.end()
    if _HAS_ADDRESS.search(t):
        for m in _ADDRESS.finditer(t):
            start = m.start()
            chain = _ADMIN_CHAIN.search(t, max(0, start - 48), start)
            if chain is not None:
                start = chain.start()
            yield "address", start, m.end()
    if _HAS_NAME_CUE.search(t):
        yield from _name_spans(t)


def identifier_spans(text: str) -> list[tuple[str, int, int]]:
    """Identifier-shaped substrings of ``text`` as ``(kind, start, end)`` spans.

    Parameters
    ----------
    text : str
        Any text: an open answer, a message, a line of a file, a table cell.

    Returns
    -------
    list of tuple
        Non-overlapping ``(kind, start, end)`` with ``text[start:end]`` the
        identifier, sorted by ``start``.  Where candidates overlap the longest
        wins, and on equal length the more specific kind (``id_card`` before
        ``mobile`` before ``landline`` ... before ``name``).  Kinds are the
        keys of :data:`TAGS`.

    Notes
    -----
    Text is first normalised (full-width digits, letters and punctuation to
    ASCII, dashes to ``-``; the length is unchanged, so spans index the
    original text).  The detectors:

    mobile
        Mainland mobile numbers ``1[3-9]`` + 9 digits, optionally after
        ``+86``, ``0086``, ``(+86)`` or ``86-``, with spaces or dashes in 3-4-4
        grouping (``139 1234 5678``, ``139-1234-5678``), full-width digits
        too; not inside a longer alphanumeric token (a hash) nor part of a
        decimal number (``0.13912345678``, ``13912345678.25``).
    landline
        An area code (``010``, ``02x``, or ``0`` + three digits ``0371``),
        optionally in parentheses, an optional space or dash, then a 7-8
        digit number beginning 2-9; not after a digit, a letter or ``.``,
        not followed by a digit.
    id_card
        18-character resident ID numbers (17 digits and a digit or ``X``)
        with a valid birth date and the GB 11643-1999 check character
        (:func:`valid_id_card`), and old 15-digit numbers (a valid province
        code, a valid ``YYMMDD`` birth date at positions 7-12).
    email
        ``local@domain.tld``.
    wechat
        An ID of 6-20 characters beginning with a letter after a cue
        (微信, 微信号, V信, wx, vx, WeChat; optional 号/ID, a colon, 是 or
        为).  After a Latin cue with only white space in between (``WeChat
        nickname``) the ID must contain a digit, ``_`` or ``-``.  Also
        ``wxid_...`` tokens anywhere.
    address
        House-level addresses only, never bare place names (河南省,
        郑州市金水区): ``<road>(路|街|大街|大道|巷|胡同|里)<n>号``,
        ``<estate>(小区|花园|家园|公寓|新村|苑)<n>(号楼|栋|幢|号)``,
        ``<n>(号楼|栋|幢)<n>单元[<n>室]``, ``<n>(号楼|栋|幢)[<n>](室|层)``
        and ``<n>单元<n>室``, with Arabic, full-width or Chinese numerals,
        extended by following building/unit/room parts and by an adjacent
        preceding 省/市/区/县/街道/镇/社区/村 chain.
    ip
        IPv4 (four octets 0-255; not part of a longer dotted sequence, not
        after a letter, ``=``, ``<``, ``>``, ``~`` or ``@`` as in version
        pins; not ``0.x``, loopback ``127.x``, multicast or netmasks
        (first octet 224 or more); not all four octets single digits, which
        are outline or version numbers rather than hosts; not inside a run
        of plain numbers, as compact SVG path data ``13.47 10.1.9.34
        1.17`` is) and IPv6 (eight groups, or compressed with ``::`` and at
        least three groups; checked with :mod:`ipaddress`).
    coordinates
        A latitude/longitude pair in one string: two decimals with at least
        four decimal places separated by a comma, 、, ， or spaces, one in
        [3.8, 53.6] and the other in [73.5, 135.1] (China's bounding box),
        in either order; KoboToolbox geopoints ``lat lon altitude accuracy``
        too.  A pair inside a longer run of numbers (SVG path data, number
        lists) is not a coordinate.
    name
        2-4 Han characters beginning with a common surname
        (:data:`SURNAMES`, :data:`COMPOUND_SURNAMES`) after a cue (我叫, 我是,
        本人, 姓名, 名字, 联系人, 找, 联系; optional colon, 是, 为), ending at
        punctuation, a non-Han character or a following word such as 电话,
        手机, 今年, 住; place names, answer labels and common words that
        begin with a surname character (郑州, 方式, 高中) are not names.

    Examples
    --------
    >>> identifier_spans("电话：+86 139 1234 5678")
    [('mobile', 3, 20)]
    >>> identifier_spans("p = 0.13912345678, version 3.11.7, 2024-05-12 12:30:45")
    []
    """
    if not isinstance(text, str) or not _MAYBE.search(text):
        return []
    t = _normalize(text)
    cands = list(_candidates(t))
    if len(cands) <= 1:
        return cands
    cands = sorted(set(cands), key=lambda c: (-(c[2] - c[1]), _PRIORITY[c[0]], c[1]))
    taken: list[tuple[str, int, int]] = []
    for kind, s, e in cands:
        if all(e <= s2 or s >= e2 for _, s2, e2 in taken):
            taken.append((kind, s, e))
    return sorted(taken, key=lambda c: c[1])


def find_identifiers(text: str) -> list[tuple[str, str]]:
    """Identifier-shaped substrings of ``text`` as ``(kind, value)`` pairs.

    See :func:`identifier_spans` for the detectors.

    Examples
    --------
    >>> find_identifiers("电话13912345678,身份证11010519491231002X, p=0.13912345678")
    [('mobile', '13912345678'), ('id_card', '11010519491231002X')]
    """
    return [(kind, text[s:e]) for kind, s, e in identifier_spans(text)]


def redact(text: str) -> tuple[str, Counter]:
    """Replace every identifier in ``text`` by its tag.

    Parameters
    ----------
    text : str
        Text to clean.

    Returns
    -------
    redacted : str
        ``text`` with each span of :func:`identifier_spans` replaced by
        ``TAGS[kind]``.
    counts : collections.Counter
        Number of replacements by tag.

    Notes
    -----
    Fast on clean text: a string without a digit, ``@``, ``:``, an address
    character (号栋幢室层) or a character of a cue word is returned after one
    character-class search, and each detector runs only when a cheap test
    finds what it needs (three adjacent digits, an ``@``, a cue word, a
    numeral followed by 号/栋/幢/单元), so calling this on every open answer
    of a large export is cheap.

    Examples
    --------
    >>> redact("微信号：wang_li88，邮箱 a.b@example.com")
    ('微信号：[微信]，邮箱 [邮箱]', Counter({'[微信]': 1, '[邮箱]': 1}))
    >>> redact("社区很好")
    ('社区很好', Counter())
    """
    counts: Counter = Counter()
    if not isinstance(text, str):
        return text, counts
    spans = identifier_spans(text)
    if not spans:
        return text, counts
    parts, last = [], 0
    for kind, s, e in spans:
        tag = TAGS[kind]
        parts.append(text[last:s])
        parts.append(tag)
        counts[tag] += 1
        last = e
    parts.append(text[last:])
    return "".join(parts), counts


def scrub_text(value):
    """The redacted form of a free-text value (see :func:`redact`).

    ``None`` stays ``None`` and non-strings are returned unchanged.

    Examples
    --------
    >>> scrub_text("请联系13912345678"), scrub_text(None), scrub_text(3)
    ('请联系[电话]', None, 3)
    """
    if isinstance(value, str):
        return redact(value)[0]
    return value


def mask_identifiers(text: str) -> str:
    """Replace every identifier in ``text`` by its tag: ``redact(text)[0]``.

    Examples
    --------
    >>> mask_identifiers("PL1: out of range ('13912345678')")
    "PL1: out of range ('[电话]')"
    """
    return redact(text)[0]


# --------------------------------------------------------------------------
# columns
# --------------------------------------------------------------------------
def _header_has(name, words) -> bool:
    low = str(name).lower()
    for word in words:
        w = word.lower()
        if w in _SHORT_HEADER_WORDS:
            # short words only as whole tokens, not inside other words
            if re.search(rf"(?<![a-z]){re.escape(w)}(?![a-z])", low):
                return True
        elif w in low:
            return True
    return False


def is_identifier_column(name: str) -> bool:
    """True if a column header names an identifier (a platform's or a respondent's).

    Examples
    --------
    >>> is_identifier_column("来源IP"), is_identifier_column("45、您的手机号码"), is_identifier_column("PL1")
    (True, True, False)
    >>> is_identifier_column("latitude"), is_identifier_column("lat"), is_identifier_column("latent")
    (True, True, False)
    """
    return _header_has(name, IDENTIFIER_HEADER_WORDS)


_PERSON_HEADER_ZH = ("姓名", "名字", "称呼", "签名")
_PERSON_HEADER_ZH_END = ("联系人", "填写人", "被访者", "受访者", "户主")
_PERSON_HEADER_EN = re.compile(
    r"(?<![a-z])(?:respondent_?name|full_?name|first_?name|last_?name|given_?name|family_?name|sur_?name|"
    r"contact_?(?:name|person)|person_?name|real_?name|interviewee)(?![a-z])")
_NOT_PERSON_HEADER = re.compile(
    r"手机|电话|身份|证件|地址|住址|微信|昵称|邮箱|号码|年龄|性别|社区|小区|城市|街道|单位|学校|机构|公司|项目|"
    r"文件|变量|量表|题目|phone|mobile|tel|mail|address|city|community|district|street|file|model|item|"
    r"variable|scale|construct|param", re.IGNORECASE)


def _person_header(header) -> bool:
    h = re.sub(r"^[\s\d.、:：)）(（-]*", "", str(header)).strip().rstrip(":：?？")
    low = h.lower()
    if not h or _NOT_PERSON_HEADER.search(h):
        return False
    return (any(w in h for w in _PERSON_HEADER_ZH) or h.endswith(_PERSON_HEADER_ZH_END)
            or bool(_PERSON_HEADER_EN.search(low)))


def _nonempty_strings(values):
    out = []
    for v in values:
        if isinstance(v, str):
            s = v.strip()
            if s.lower() not in _MISSING_MARKERS:
                out.append(s)
    return out


def name_like_column(header, values) -> bool:
    """True if a column holds personal names.

    Parameters
    ----------
    header : str
        The column header.
    values : iterable
        The column's values (non-strings and empty strings are ignored).

    Returns
    -------
    bool
        True if the header names a person (姓名, 名字, 联系人, 填写人,
        respondent_name, full_name, ...), or if at least three and at least
        half of the non-empty values are 2-4 Han characters beginning with a
        common surname that are not place names, answer labels or common
        words (郑州, 洛阳, 比较同意, 高中, ...).

    Examples
    --------
    >>> name_like_column("x", ["王伟", "李娜", "张秀英", "欧阳娜娜"])
    True
    >>> name_like_column("city", ["郑州", "洛阳", "开封", "郑州", "南阳"])
    False
    >>> name_like_column("填写人姓名", [])
    True
    """
    if _person_header(header):
        return True
    vals = _nonempty_strings(values)
    if len(vals) < 3:
        return False
    counts = Counter(vals)
    hits = sum(c for v, c in counts.items() if _is_name(v))
    return hits >= 3 and 2 * hits >= len(vals)


_SCAN_HEADER_WORDS = tuple(w for w in IDENTIFIER_HEADER_WORDS if w not in ("姓名", "名字", "联系人", "填写人", "name"))


def _header_kind(header) -> str | None:
    """The kind of identifier a column header names, or None."""
    if _person_header(header):
        return "name"
    # person words are left to name_like_column: a bare "name" column in a
    # results table or an XLSForm names items, not people
    if not _header_has(header, _SCAN_HEADER_WORDS):
        return None
    low = str(header).lower()
    rules = (
        ("id_card", ("身份证", "证件", "id_card", "idcard", "id_number", "passport")),
        ("landline", ("座机", "landline")),
        ("mobile", ("手机", "电话", "联系方式", "phone", "mobile", "tel")),
        ("email", ("邮箱", "电子邮件", "email", "e-mail", "mail")),
        ("wechat", ("微信", "昵称", "wechat", "weixin", "nickname")),
        ("ip", ("ip",)),                                  # before address: IP地址, ip_address
        ("coordinates", ("经纬度", "坐标", "定位", "地理位置", "gps", "geo", "location", "latitude", "longitude",
                         "lat", "lon", "lng", "coord")),
        ("address", ("住址", "地址", "门牌", "address", "street")),
    )
    for kind, words in rules:
        for w in words:
            if (re.search(rf"(?<![a-z]){re.escape(w)}(?![a-z])", low) if w.isascii() and len(w) <= 4
                    else w in low):
                return kind
    return "account"  # device, submission and account ids, QQ numbers, source details


# --------------------------------------------------------------------------
# timestamps and ids
# --------------------------------------------------------------------------
def coarsen_to_day(values) -> pd.Series:
    """Reduce timestamps to the day (ISO ``YYYY-MM-DD`` strings, NaN if unparseable).

    Examples
    --------
    >>> coarsen_to_day(["2024/5/12 14:33:05", "2024-05-13T09:00:00.000+08:00"]).tolist()
    ['2024-05-12', '2024-05-13']
    """
    s = pd.Series(values, dtype="object").astype("str").str.strip()
    # keep the local date as written: drop a time zone suffix before parsing
    s = s.str.replace(r"([T ]\d{1,2}:\d{2}(:\d{2})?(\.\d+)?)([+-]\d{2}:?\d{2}|Z)$", r"\1", regex=True)
    parsed = pd.to_datetime(s, errors="coerce", format="mixed")
    out = parsed.dt.strftime("%Y-%m-%d")
    return out.astype("object").where(parsed.notna(), None)


def pseudonym(index: int) -> str:
    """The pseudonymous id of the ``index``-th data row of a raw export (1-based).

    A sequence, not a hash: it is deterministic, carries nothing about the
    respondent and cannot be reversed into a platform id.

    Examples
    --------
    >>> pseudonym(7)
    'R00007'
    """
    return f"R{int(index):05d}"


_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def id_card_check_digit(first17: str) -> str:
    """Check character of an 18-digit resident ID number (GB 11643-1999).

    Notes
    -----
    :math:`c = (12 - (\\sum_i w_i d_i \\bmod 11)) \\bmod 11` with weights
    :math:`w_i = 2^{17-i} \\bmod 11`; ``10`` is written ``X`` [1]_.

    References
    ----------
    .. [1] GB 11643-1999, *Citizen identification number*. Standardization
       Administration of China.

    Examples
    --------
    >>> id_card_check_digit("11010519491231002")
    'X'
    """
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("an ID number body has exactly 17 digits")
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS))
    return _CHECK[total % 11]


def valid_id_card(text: str) -> bool:
    """True if ``text`` is an 18-character ID number with a valid birth date and checksum.

    Full-width digits and ``Ｘ`` are accepted.

    Examples
    --------
    >>> valid_id_card("11010519491231002X"), valid_id_card("110105194912310021")
    (True, False)
    """
    text = _normalize(str(text))
    if len(text) != 18 or not text[:17].isascii() or not text[:17].isdigit():
        return False
    y, m, d = int(text[6:10]), int(text[10:12]), int(text[12:14])
    if not (1900 <= y <= 2100 and _valid_date(y, m, d)):
        return False
    return id_card_check_digit(text[:17]) == text[17].upper()


# --------------------------------------------------------------------------
# the scanner
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    """An identifier found in a file.

    A finding says *where* and *what kind*, never the value: not even a
    masked form of it may reach a log.

    Attributes
    ----------
    path : str
        The file.
    kind : str
        A key of :data:`TAGS`; ``"account"`` for a column whose header names
        a device, submission or account id; ``"unreadable"`` for a file that
        could not be read (then ``location`` is the exception type).
    location : str
        ``line N`` for text files; ``row R, column C`` for tables, with ``R``
        the row as a spreadsheet shows it (the header is row 1) and ``C`` the
        header text (redacted; ``column N`` if the header is empty);
        ``sheet S, row R, column C`` for workbooks; ``paragraph N`` for DOCX
        files; ``variable label, column C`` or ``value labels, column C`` for
        SPSS/Stata metadata.
    """

    path: str
    kind: str
    location: str

    def __str__(self) -> str:
        return f"{self.path}: {self.location}: {self.kind}"


_TABLE_SUFFIXES = {".csv", ".tsv"}
_BINARY_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".ico", ".pdf", ".eps",
                    ".woff", ".woff2", ".ttf", ".otf", ".eot", ".zip", ".gz", ".bz2", ".xz", ".7z", ".tar",
                    ".pkl", ".pickle", ".npy", ".npz", ".so", ".pyc", ".doctree", ".pptx", ".mo", ".db",
                    ".sqlite", ".feather", ".rds", ".rdata", ".mp4", ".mp3", ".wav"}


def _iter_files(paths):
    if isinstance(paths, (str, Path)):
        paths = [paths]
    for p in paths:
        p = Path(p)
        if p.is_dir():
            yield from sorted(q for q in p.rglob("*") if q.is_file())
        elif p.exists():
            yield p


def _decode(data: bytes) -> str:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _read_text(path: Path) -> str | None:
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        return None
    return _decode(data)


def _cell_text(v) -> str | None:
    """The text of a table cell that could hold an identifier, or None."""
    if v is None or isinstance(v, (bool, np.bool_)):
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, Integral):
        return str(int(v)) if abs(int(v)) >= 10 ** 6 else None
    if isinstance(v, Real):
        f = float(v)
        if math.isfinite(f) and f.is_integer() and abs(f) >= 1e6:
            return str(int(f))
        return None
    if isinstance(v, (bytes, bytearray)):
        return _decode(bytes(v))
    if isinstance(v, (_dt.date, _dt.time, _dt.timedelta, pd.Timestamp, np.datetime64)):
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return str(v)


def _column_label(header, index: int) -> str:
    text = "" if header is None else str(header).strip()
    if not text or text.lower() in ("nan", "none"):
        return f"column {index + 1}"
    return "column " + redact(text)[0]


def _scan_columns(path, columns, prefix: str = "", first_row: int = 2, labels=None) -> list[Finding]:
    """Findings in a table given as ``[(header, values), ...]``.

    ``values[i]`` is on spreadsheet row ``first_row + i``; ``labels`` maps a
    header to a longer description (SPSS/Stata variable labels) used to
    recognise identifier columns.
    """
    out: list[Finding] = []
    p = str(path)
    seen: set[tuple[str, str]] = set()

    def add(kind, location):
        if (kind, location) not in seen:
            seen.add((kind, location))
            out.append(Finding(p, kind, location))

    for j, (header, values) in enumerate(columns):
        col = _column_label(header, j)
        htext = "" if header is None else str(header)
        for kind, _, _ in identifier_spans(htext):
            add(kind, f"{prefix}row 1, {col}")
        described = f"{htext} {labels.get(header, '')}" if labels else htext
        column_kind = _header_kind(htext) or (_header_kind(described) if labels else None)
        if column_kind is None and name_like_column(described, values):
            column_kind = "name"
        for i, v in enumerate(values):
            text = _cell_text(v)
            if text is None:
                continue
            where = f"{prefix}row {first_row + i}, {col}"
            if column_kind is not None and text.strip().lower() not in _MISSING_MARKERS:
                add(column_kind, where)
            for kind, _, _ in identifier_spans(text):
                add(kind, where)
    return out


def _frame_columns(frame: pd.DataFrame):
    cols = []
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_datetime64_any_dtype(s) \
                or pd.api.types.is_timedelta64_dtype(s):
            cols.append((col, []))
            continue
        if pd.api.types.is_numeric_dtype(s):
            num = pd.to_numeric(s, errors="coerce").astype("float64")
            arr = num.to_numpy()
            big = np.isfinite(arr) & (np.abs(arr) >= 1e6) & (np.floor(arr) == arr)
            vals = [None] * len(arr)
            for i in np.flatnonzero(big):
                v = s.iloc[i]
                vals[i] = int(v) if isinstance(v, Integral) else float(v)
            cols.append((col, vals))
        else:
            cols.append((col, s.astype("object").tolist()))
    return cols


def _sniff_delimiter(text: str, suffix: str) -> str:
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=counts.get)
    if counts[best] == 0:
        return "\t" if suffix == ".tsv" else ","
    if suffix == ".tsv" and counts["\t"]:
        return "\t"
    return best


def _scan_csv(path: Path) -> list[Finding]:
    text = _decode(path.read_bytes())
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text, path.suffix.lower())))
    if not rows:
        return []
    header = rows[0]
    width = max(len(r) for r in rows)
    header = list(header) + [None] * (width - len(header))
    columns = [(h, [r[j] if j < len(r) else None for r in rows[1:]]) for j, h in enumerate(header)]
    return _scan_columns(path, columns)


def _scan_xlsx(path: Path) -> list[Finding]:
    import openpyxl

    out: list[Finding] = []
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        for ws in wb.worksheets:
            rows = [list(r) for r in ws.iter_rows(min_row=1, values_only=True)]
            if not rows:
                continue
            width = max(len(r) for r in rows)
            header = rows[0] + [None] * (width - len(rows[0]))
            columns = [(h, [r[j] if j < len(r) else None for r in rows[1:]]) for j, h in enumerate(header)]
            out += _scan_columns(path, columns, prefix=f"sheet {redact(ws.title)[0]}, ")
    finally:
        wb.close()
    return out


def _scan_stat(path: Path, suffix: str) -> list[Finding]:
    import pyreadstat

    reader = pyreadstat.read_sav if suffix in (".sav", ".zsav") else pyreadstat.read_dta
    frame, meta = reader(str(path))
    labels = {k: v for k, v in (meta.column_names_to_labels or {}).items() if v}
    out = _scan_columns(path, _frame_columns(frame), labels=labels)
    p = str(path)
    for name, label in labels.items():
        for kind, _, _ in identifier_spans(str(label)):
            out.append(Finding(p, kind, f"variable label, {_column_label(name, 0)}"))
    for name, mapping in (meta.variable_value_labels or {}).items():
        for value_label in mapping.values():
            for kind, _, _ in identifier_spans(str(value_label)):
                out.append(Finding(p, kind, f"value labels, {_column_label(name, 0)}"))
    return out


def _scan_lines(path: Path, text: str) -> list[Finding]:
    out, p = [], str(path)
    for lineno, line in enumerate(text.splitlines(), 1):
        for kind in dict.fromkeys(k for k, _, _ in identifier_spans(line)):
            out.append(Finding(p, kind, f"line {lineno}"))
    return out


def _scan_docx(path: Path) -> list[Finding]:
    with zipfile.ZipFile(path) as z:
        xml = z.read("word/document.xml").decode("utf-8")
    out, p = [], str(path)
    for n, para in enumerate(re.findall(r"<w:p[ >].*?</w:p>", xml, flags=re.S), 1):
        text = "".join(re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", para))
        for kind in dict.fromkeys(k for k, _, _ in identifier_spans(text)):
            out.append(Finding(p, kind, f"paragraph {n}"))
    return out


def scan_for_identifiers(paths) -> list[Finding]:
    """Find identifiers in files.

    Parameters
    ----------
    paths : path-like or iterable of path-like
        Files or folders (searched recursively).

    Returns
    -------
    list of Finding
        Empty when nothing identifier-shaped was found.  ``str(finding)`` is
        ``"{path}: {location}: {kind}"`` and never contains the identifier.

    Notes
    -----
    CSV and TSV files are read as tables (UTF-8, else GB 18030; delimiter
    sniffed among ``,``, tab and ``;``), XLSX workbooks sheet by sheet,
    Parquet, SAV and DTA files as data frames; every cell is searched with
    :func:`identifier_spans` and located as ``row R, column C`` (the header is
    row 1).  In typed tables only whole numbers of at least 10^6 can be
    identifiers (phone or ID numbers stored as numbers).  Every non-empty
    cell of a column whose header names an identifier
    (:func:`is_identifier_column`, e.g. 微信昵称, ``deviceid``) or which
    holds names (:func:`name_like_column`) is a finding too.  DOCX files are
    searched paragraph by paragraph; other text files (Markdown, HTML, JSON,
    LaTeX, scripts, logs, files without a suffix, ...) line by line
    (``line N``); binary files (images, fonts, archives) are skipped.  A
    file that cannot be read gives a finding of kind ``unreadable`` instead
    of stopping the scan.  See :func:`identifier_spans` for the detectors.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "r.csv").write_text("id,note\\n1,call 139 1234 5678\\n", encoding="utf-8")
    >>> [str(f).split("/")[-1] for f in scan_for_identifiers([d])]
    ['r.csv: row 2, column note: mobile']
    """
    findings: list[Finding] = []
    for path in _iter_files(paths):
        suffix = path.suffix.lower()
        try:
            if suffix in _TABLE_SUFFIXES:
                findings += _scan_csv(path)
            elif suffix == ".parquet":
                findings += _scan_columns(path, _frame_columns(pd.read_parquet(path)))
            elif suffix in (".xlsx", ".xlsm"):
                findings += _scan_xlsx(path)
            elif suffix == ".xls":
                for name, frame in pd.read_excel(path, sheet_name=None, header=None, dtype=object).items():
                    header = frame.iloc[0].tolist() if len(frame) else list(frame.columns)
                    cols = [(h, frame.iloc[1:, j].tolist()) for j, h in enumerate(header)]
                    findings += _scan_columns(path, cols, prefix=f"sheet {redact(str(name))[0]}, ")
            elif suffix in (".sav", ".zsav", ".dta"):
                findings += _scan_stat(path, suffix)
            elif suffix == ".docx":
                findings += _scan_docx(path)
            elif suffix in _BINARY_SUFFIXES:
                continue
            else:
                text = _read_text(path)
                if text is not None:  # None: binary content
                    findings += _scan_lines(path, text)
        except Exception as exc:  # noqa: BLE001 - an unreadable file is reported, never a crash
            findings.append(Finding(str(path), "unreadable", type(exc).__name__))
    return findings
