"""Words that say little about who a company is: generic descriptors, places, stop words; pure.

Chinese companies are cited with or without their city or province ("Beijing", "Hangzhou"),
their trade ("Technology", "Information", "Digital") and their form ("Group", "Co., Ltd."),
in English or in pinyin ("Keji", "Youxian Gongsi"). The matcher weighs these words at almost
nothing when a name has other words, so "SenseTime" and "Beijing Sensetime Technology
Development Co., Ltd." are one name, and "Beijing Technology Development" is not that name.
A name made only of such words ("Harbin Institute of Technology") is matched on all of them.
All words are written normalised: lower case, no accents or punctuation.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum
from functools import lru_cache

from workflows.rules.similarity import deletions, indel_ratio


class WordKind(IntEnum):
    """How much a word says about who a party is."""

    DISTINCTIVE = 0
    GENERIC = 1
    PLACE = 2
    STOP = 3


# fmt: off
_LEGAL_FORMS = """
co company companies corp corporation incorporated inc ltd limited llc llp lp plc gmbh mbh ag kg
sa sarl srl spa sl bv nv pte pty pvt private public sdn bhd fze fzco fzc fzllc oy ab aps kk ooo
oao zao pao ao jsc ojsc cjsc pjsc tov ltda cia sas sac sau eirl cv jv joint venture stock share
shares shareholding partnership partners associates liability responsibility cooperative
cooperatief coop ua doo sro kft zrt asa bvba sasu eurl ohg kgaa ug gk yk tbk wll spc saoc psc
pllc eireli
"""
_ORGANISATIONS = """
group grp holding holdings enterprise enterprises firm branch subsidiary office division
department bureau agency administration organization organisation association foundation
institute institution academy university college school center centre laboratory laboratories
lab labs factory plant works workshop base station unit park
"""
_TRADES = """
technology technologies tech technical techno science sciences scientific sci information info
informatics development developments dev industry industries industrial international intl
global worldwide trading trade traders commerce commercial import export imp exp importers
exporters investment investments capital finance financial fund funds bank banking insurance
credit securities management consulting consultancy consultants service services solution
solutions system systems product products supply supplies supplier suppliers logistics network
networks networking communication communications telecom telecoms telecommunication
telecommunications electronic electronics electric electrical electro digital intelligent
intelligence smart software computer computers computing cloud data internet online web
innovation innovations innovative research design engineering equipment device devices machine
machinery machines manufacturing manufacture manufacturer automation automotive auto instrument
instruments precision material materials optical optics optoelectronic optoelectronics
photoelectric photonics laser power energy new high hi advanced applied integrated circuit
circuits ic semiconductor semiconductors microelectronic microelectronics micro chip chips
terminal terminals media culture marine ocean shipping aviation aerospace space airlines airline
airways air transport transportation freight express medical health pharmaceutical
pharmaceuticals chemical chemicals petrochemical petroleum oil gas mining metal metals steel
construction agricultural food foods textile security defense defence military army navy
quantum robotics robot robots drone drones uav sensor sensors sensing imaging video storage
battery solar lighting display components parts hardware artificial ai optic opto fiber
fibre cable cables vision image
national state general central united
union federal people peoples sme north northern south southern east eastern west western
"""
# Pinyin for the same words, as Chinese registers spell them out.
_PINYIN = """
keji jishu kexue xinxi dianzi fazhan zhineng shuju wangluo ruanjian shiye touzi maoyi guoji
konggu jituan gufen youxian gongsi zeren chuangxin gongye shebei zhizao dianqi tongxin hangtian
hangkong yanjiusuo yanjiuyuan daxue zhongxin chanye kaifa fuwu xianjin jicheng dianlu sheji
zhongguo zhonghua
"""
# Other languages' registers: Spanish, Portuguese, French, German, Russian transliterated.
_FOREIGN = """
banco banca grupo compania comercial comercializadora empresa empresas sociedad industrias
industria inversiones servicios corporacion internacional nacional importadora exportadora
distribuidora inmobiliaria societe gesellschaft handels firma obshchestvo aktsionernoe
otvetstvennostyu ogranichennoi zakrytoe otkrytoe publichnoe
"""
_CHINA = """
china chinese prc sino beijing shanghai tianjin chongqing shenzhen guangzhou hangzhou nanjing
wuhan chengdu xian suzhou wuxi hefei changsha zhengzhou jinan qingdao dalian shenyang harbin
changchun xiamen fuzhou ningbo dongguan foshan zhuhai kunming nanchang taiyuan shijiazhuang
lanzhou urumqi hohhot nanning guiyang haikou sanya yinchuan xining lhasa tangshan baoding yantai
weihai weifang zibo changzhou nantong wenzhou shaoxing jiaxing huzhou jinhua taizhou huizhou
zhongshan jiangmen shantou zhanjiang mianyang luoyang kaifeng yangzhou xuzhou zhenjiang zhuzhou
xiangtan guilin liuzhou baotou daqing anshan fushun datong handan langfang qinhuangdao yichang
xiangyang hengyang yueyang zunyi kashgar karamay shihezi jiangyin kunshan yiwu quanzhou
zhangzhou putian ganzhou jiujiang wuhu bengbu luzhou yibin deyang nanyang xinxiang linyi rizhao
jining taian dongying yancheng huaian lianyungang changshu zhangjiagang yixing cixi anhui fujian
gansu guangdong guizhou hainan hebei heilongjiang henan hubei hunan jiangsu jiangxi jilin
liaoning qinghai shaanxi shandong shanxi sichuan yunnan zhejiang guangxi ningxia xinjiang tibet
xizang neimenggu hongkong hk kowloon macau macao taiwan taipei hsinchu kaohsiung taichung
tainan huabei huanan huadong huazhong xibei dongbei sz bj sh gz
"""
_REGIONS = """
asia asian europe european africa african america american americas latin pacific atlantic
gulf nordic apac emea oceania overseas eu usa us uk uae ksa rok dprk
"""
# Cities where Chinese companies' subsidiaries and buyers sit, as registers spell them.
_WORLD_CITIES = """
london paris frankfurt munich berlin hamburg dusseldorf cologne stuttgart amsterdam rotterdam
brussels antwerp zurich geneva vienna milan rome madrid barcelona lisbon stockholm oslo
copenhagen helsinki warsaw prague budapest bucharest sofia athens moscow petersburg istanbul
ankara dubai sharjah riyadh jeddah doha muscat tehran karachi lahore dhaka mumbai delhi
bangalore bengaluru chennai hyderabad pune kolkata colombo tokyo osaka yokohama nagoya seoul
busan incheon jakarta bangkok hanoi saigon manila cebu penang sydney melbourne
auckland toronto vancouver montreal chicago houston dallas seattle boston atlanta miami denver
phoenix tashkent almaty astana minsk kyiv kiev tbilisi baku yerevan cairo lagos nairobi
johannesburg casablanca
"""
_COUNTRIES = """
afghanistan albania algeria andorra angola argentina armenia australia austria azerbaijan
bahamas bahrain bangladesh barbados belarus belgium belize benin bhutan bolivia bosnia botswana
brazil brunei bulgaria burkina burma burundi cambodia cameroon canada chad chile colombia
comoros congo croatia cuba cyprus czech czechia denmark djibouti dominica ecuador egypt eritrea
estonia eswatini ethiopia fiji finland france gabon gambia georgia germany ghana greece grenada
guatemala guinea guyana haiti honduras hungary iceland india indonesia iran iraq ireland israel
italy jamaica japan jordan kazakhstan kenya kiribati korea kosovo kuwait kyrgyzstan laos latvia
lebanon lesotho liberia libya liechtenstein lithuania luxembourg madagascar malawi malaysia
maldives mali malta mauritania mauritius mexico micronesia moldova monaco mongolia montenegro
morocco mozambique myanmar namibia nauru nepal netherlands nicaragua niger nigeria norway oman
pakistan palau palestine panama paraguay peru philippines poland portugal qatar romania russia
rwanda samoa senegal serbia seychelles singapore slovakia slovenia somalia spain sudan suriname
sweden switzerland syria tajikistan tanzania thailand togo tonga tunisia turkey turkiye
turkmenistan tuvalu uganda ukraine uruguay uzbekistan vanuatu venezuela vietnam yemen zambia
zimbabwe russian iranian korean syrian cuban venezuelan belarusian japanese german french
british indian turkish emirati
"""
# Places of more than one word: each word is a place only as part of the whole.
_PLACE_PHRASES = """
hong kong|inner mongolia|xi an|united states|united kingdom|united arab emirates|south korea|
north korea|new zealand|saudi arabia|south africa|sri lanka|costa rica|el salvador|puerto rico|
dominican republic|ivory coast|cote d ivoire|czech republic|north macedonia|papua new guinea|
sierra leone|south sudan|east timor|timor leste|burkina faso|cabo verde|cape verde|san marino|
marshall islands|solomon islands|trinidad and tobago|antigua and barbuda|bosnia and herzegovina|
middle east|north america|south america|latin america|southeast asia|east asia|central asia|
asia pacific|hong kong sar|macau sar|macao sar|new york|los angeles|san francisco|san jose|
abu dhabi|ho chi minh|ho chi minh city|mexico city|sao paulo|rio de janeiro|buenos aires|
kuala lumpur|tel aviv|st petersburg|saint petersburg
"""
# Abbreviations of generic words, written out before names are compared: "Harbin Inst. of Tech."
# is "Harbin Institute of Technology", a name made only of generic words and a place.
ABBREVIATIONS: dict[str, str] = {
    "inst": "institute", "univ": "university", "tech": "technology", "intl": "international",
    "natl": "national", "dev": "development", "devt": "development", "info": "information",
    "sci": "science", "mfg": "manufacturing", "engg": "engineering", "acad": "academy",
    "assoc": "association", "dept": "department", "ctr": "center", "centre": "center",
    "grp": "group", "svcs": "services", "sys": "systems", "indus": "industry",
    "organisation": "organization", "defence": "defense",
}
_STOP = """
of the and for de del della di da do dos das des du la le les los las el y e et und in at on to
"""
# fmt: on

GENERIC_WORDS = frozenset((_LEGAL_FORMS + _ORGANISATIONS + _TRADES + _PINYIN + _FOREIGN).split())
PLACE_WORDS = frozenset((_CHINA + _REGIONS + _WORLD_CITIES + _COUNTRIES).split())
PLACE_PHRASES: dict[str, tuple[tuple[str, ...], ...]] = {}
"""Places of more than one word, by their first word, longest first."""
for _phrase in sorted(
    {tuple(text.split()) for text in _PLACE_PHRASES.replace("\n", "").split("|")},
    key=len,
    reverse=True,
):
    PLACE_PHRASES[_phrase[0]] = (*PLACE_PHRASES.get(_phrase[0], ()), _phrase)
STOP_WORDS = frozenset(_STOP.split())

FUZZY_KIND_MIN_LEN = {WordKind.GENERIC: 6, WordKind.PLACE: 7}
"""A word this long and one edit from a known word ("Technolgy", "Shenzen") is of its kind.

Pinyin generic words never match through a typo: pinyin is dense, and distinctive names lie
one letter from generic words ("Zhongxing", ZTE, vs "zhongxin", centre). Places need seven
letters: "Datang" is a company, "Datong" a city.
"""
FUZZY_KIND_MIN_RATIO = 0.85


def _kind_keys() -> dict[str, list[tuple[str, WordKind]]]:
    keys: dict[str, list[tuple[str, WordKind]]] = {}
    english = GENERIC_WORDS - frozenset(_PINYIN.split())
    for words, kind in ((english, WordKind.GENERIC), (PLACE_WORDS, WordKind.PLACE)):
        for word in words:
            if len(word) >= FUZZY_KIND_MIN_LEN[kind]:
                for key in {word, *deletions(word)}:
                    keys.setdefault(key, []).append((word, kind))
    return keys


_KIND_KEYS = _kind_keys()


@lru_cache(maxsize=65536)
def word_kind(word: str) -> WordKind:
    """The kind of one normalised word, allowing one typo in longer English words and places."""
    if word in STOP_WORDS:
        return WordKind.STOP
    if word in GENERIC_WORDS:
        return WordKind.GENERIC
    if word in PLACE_WORDS:
        return WordKind.PLACE
    if len(word) < min(FUZZY_KIND_MIN_LEN.values()):
        return WordKind.DISTINCTIVE
    best, kind = 0.0, WordKind.DISTINCTIVE
    for key in {word, *deletions(word)}:
        for known, known_kind in _KIND_KEYS.get(key, ()):
            ratio = indel_ratio(word, known)
            long_enough = len(word) >= FUZZY_KIND_MIN_LEN[known_kind]
            if ratio >= FUZZY_KIND_MIN_RATIO and ratio > best and long_enough:
                best, kind = ratio, known_kind
    return kind


def expand(tokens: Sequence[str]) -> tuple[str, ...]:
    """The words with abbreviations of generic words written out."""
    return tuple(ABBREVIATIONS.get(token, token) for token in tokens)


def word_kinds(tokens: Sequence[str]) -> list[WordKind]:
    """The kind of each word of a name; "Hong Kong" is two place words, "Kong" alone is not."""
    kinds = [word_kind(token) for token in tokens]
    for start, token in enumerate(tokens):
        for phrase in PLACE_PHRASES.get(token, ()):
            if tuple(tokens[start : start + len(phrase)]) == phrase:
                kinds[start : start + len(phrase)] = [WordKind.PLACE] * len(phrase)
                break
    return kinds
