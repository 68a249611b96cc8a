"""The labelled screening table: listed entries, names that must hit them, names that must not.

Listed names are written as the Entity List and the SDN list write them (real entries, their
aliases trimmed). Variants are written as orders and distributors cite the companies:
without their city, with generic words dropped or added, in pinyin, split or joined.
Clean names are real or realistic companies that share generic words, places or one word of
a listed name, and nothing that identifies the listed party.
"""

from __future__ import annotations

from schemas.screening import ListedParty


def _entry(
    entry_id: str,
    name: str,
    *alt_names: str,
    countries: tuple[str, ...] = ("CN",),
    entry_type: str = "",
) -> ListedParty:
    return ListedParty(
        entry_id=entry_id,
        source="Entity List (EL) - Bureau of Industry and Security",
        entry_type=entry_type,
        name=name,
        alt_names=list(alt_names),
        countries=list(countries),
        programs=["TEST-PROGRAM"],
        license_requirement="For all items subject to the EAR.",
        license_policy="Presumption of denial.",
    )


LISTED = [
    _entry("huawei", "Huawei Technologies Co., Ltd."),
    _entry("sugon", "Sugon", "Dawning Information Industry", "Zhongke Shuguang"),
    _entry("biren", "Beijing Biren Technology Development Co., Ltd."),
    _entry("moore", "Moore Threads Intelligent Technology (Beijing) Co., Ltd."),
    _entry("aaspt", "Academy of Aerospace Solid Propulsion Technology (AASPT)"),
    _entry(
        "sinobright",
        "Sinobright Import and Export Company; and any successor, sub-unit, or subsidiary thereof",
        countries=(),
    ),
    _entry("melli", "Bank Melli Iran", countries=("IR",)),
    _entry("bnc", "BANCO NACIONAL DE CUBA", "BNC", countries=("CU",)),
    _entry("aerocaribbean", "AEROCARIBBEAN AIRLINES", "AERO-CARIBBEAN", countries=("CU",)),
    _entry(
        "sme",
        "SME BANK",
        "JSC RUSSIAN BANK FOR SMALL AND MEDIUM ENTERPRISES SUPPORT",
        "MSP BANK AO",
        countries=("RU",),
    ),
    _entry("rim", "RIM, Ryong Nam", countries=("CN", "KP"), entry_type="Individual"),
    _entry(
        "qarawi",
        "Fathi Mohammed QAR'AWI",
        "Mohammed Fathi QARAWI",
        countries=("PS",),
        entry_type="Individual",
    ),
    _entry("atlas", "Atlas Sanatgaran", countries=("AM",)),
    _entry("sensetime", "Beijing Sensetime Technology Development Co., Ltd."),
    _entry("hikvision", "Hangzhou Hikvision Digital Technology Co., Ltd."),
    _entry("dahua", "Zhejiang Dahua Technology Co., Ltd."),
    _entry("megvii", "Megvii Technology Ltd.", "Beijing Kuangshi Technology Co., Ltd."),
    _entry("meiya", "Xiamen Meiya Pico Information Co., Ltd."),
    _entry("iflytek", "iFLYTEK Co., Ltd.", "Anhui USTC iFLYTEK Co., Ltd."),
    _entry("cloudwalk", "CloudWalk Technology Co., Ltd."),
    _entry("inspur", "Inspur Group Co., Ltd."),
    _entry("dji", "SZ DJI Technology Co., Ltd.", "Da-Jiang Innovations"),
    _entry("ymtc", "Yangtze Memory Technologies Co., Ltd.", "YMTC"),
    _entry("smic", "Semiconductor Manufacturing International Corporation", "SMIC"),
    _entry("nudt", "National University of Defense Technology (NUDT)"),
    _entry("hit", "Harbin Institute of Technology"),
    _entry("amms", "Academy of Military Medical Sciences"),
    _entry("phytium", "Phytium Technology Co., Ltd.", "Tianjin Phytium Information Technology"),
    _entry("hygon", "Chengdu Haiguang Integrated Circuit", "Hygon"),
    _entry("nova", "NOVA", countries=("IR",), entry_type="Vessel"),
    _entry("santiago", "SANTIAGO GARCIA, Jorge", countries=("MX",), entry_type="Individual"),
]

# (party name, entry it must hit, the listed name or alias it must report as matched): spelling,
# legal forms, word order, subsets, transliteration. The first hit must be this entry.
MUST_HIT = [
    ("Huawei Technologies Co., Ltd.", "huawei", "Huawei Technologies Co., Ltd."),  # exact
    ("HUAWEI TECHNOLOGIES CO., LTD.", "huawei", "Huawei Technologies Co., Ltd."),  # case
    ("Huawei Technologies Co Ltd", "huawei", "Huawei Technologies Co., Ltd."),  # punctuation
    ("Huawei Technologies Company Limited", "huawei", "Huawei Technologies Co., Ltd."),  # suffix
    ("Huawei", "huawei", "Huawei Technologies Co., Ltd."),  # bare name, legal form dropped
    ("Dawning Information Industry Co., Ltd.", "sugon", "Dawning Information Industry"),  # alias
    ("Zhongke Shuguang", "sugon", "Zhongke Shuguang"),  # alias, exact
    (
        "Beijing Biren Technolgy Development Co Ltd",
        "biren",
        "Beijing Biren Technology Development Co., Ltd.",
    ),  # typo
    (
        "Moore Threads",
        "moore",
        "Moore Threads Intelligent Technology (Beijing) Co., Ltd.",
    ),  # subset
    (
        "Academy of Aerospace Solid Propulsion Technology",
        "aaspt",
        "Academy of Aerospace Solid Propulsion Technology (AASPT)",
    ),  # no acronym
    (
        "Sinobright Import & Export Co., Ltd.",
        "sinobright",
        "Sinobright Import and Export Company; and any successor, sub-unit, or subsidiary thereof",
    ),  # boilerplate
    ("Bank Melli", "melli", "Bank Melli Iran"),  # two-word subset
    ("Melli Bank plc", "melli", "Bank Melli Iran"),  # word order + subset
    ("Bánco Nacionál de Cuba S.A.", "bnc", "BANCO NACIONAL DE CUBA"),  # accents + suffix
    ("Aero Caribbean", "aerocaribbean", "AERO-CARIBBEAN"),  # hyphen as space
    ("Aerocaribbean Airlines Ltd", "aerocaribbean", "AEROCARIBBEAN AIRLINES"),
    (
        "Russian Bank for Small & Medium Enterprises Support",
        "sme",
        "JSC RUSSIAN BANK FOR SMALL AND MEDIUM ENTERPRISES SUPPORT",
    ),  # prefix
    ("OOO SME Bank", "sme", "SME BANK"),  # Russian legal-form prefix
    ("Ryong Nam Rim", "rim", "RIM, Ryong Nam"),  # word order
    ("Fathi Mohammed Qarawi", "qarawi", "Fathi Mohammed QAR'AWI"),  # apostrophe
]

# (party name, entry it must hit): the distinctive part of a listed name or alias, with or
# without its city or province, generic words dropped or added, other places, pinyin, typos,
# split or joined words. Other entries may hit too; this one must be among the hits.
CHINESE_VARIANTS = [
    ("SenseTime", "sensetime"),
    ("SenseTime Group Limited", "sensetime"),
    ("Sensetime Technology Development Co., Ltd.", "sensetime"),
    ("Beijing SenseTime", "sensetime"),
    ("Shanghai SenseTime Intelligent Technology Co., Ltd.", "sensetime"),
    ("Sense Time Technology", "sensetime"),
    ("SENSETIME INTERNATIONAL PTE. LTD.", "sensetime"),
    ("SenseTime Hong Kong Limited", "sensetime"),
    ("Sensetme Technology", "sensetime"),
    ("Hikvision", "hikvision"),
    ("Hikvision Digital Technology", "hikvision"),
    ("Hangzhou Hikvision", "hikvision"),
    ("HIK Vision Technology Co", "hikvision"),
    ("Hikvision Europe B.V.", "hikvision"),
    ("Hikvison Digital Technology Co., Ltd.", "hikvision"),
    ("Dahua", "dahua"),
    ("Dahua Technology", "dahua"),
    ("Zhejiang Dahua", "dahua"),
    ("Dahua Technology USA Inc.", "dahua"),
    ("Megvii", "megvii"),
    ("Beijing Megvii Technology Co., Ltd.", "megvii"),
    ("Kuangshi Technology", "megvii"),
    ("Beijing Kuangshi Keji Youxian Gongsi", "megvii"),
    ("Meiya Pico", "meiya"),
    ("Xiamen Meiya Pico", "meiya"),
    ("Meiya Pico Information Technology Co., Ltd.", "meiya"),
    ("iFlytek", "iflytek"),
    ("USTC iFlytek", "iflytek"),
    ("iFlytek Information Technology Co., Ltd.", "iflytek"),
    ("CloudWalk", "cloudwalk"),
    ("Cloud Walk Technology", "cloudwalk"),
    ("Guangzhou CloudWalk Artificial Intelligence Technology Co., Ltd.", "cloudwalk"),
    ("Inspur", "inspur"),
    ("Inspur Group", "inspur"),
    ("Inspur Electronic Information Industry Co., Ltd.", "inspur"),
    ("Jinan Inspur Data Technology Co., Ltd.", "inspur"),
    ("Inspur Software Group", "inspur"),
    ("Inspur International Limited", "inspur"),
    ("Inspur (Hong Kong) Electronics Limited", "inspur"),
    ("Huawei Device Co., Ltd.", "huawei"),
    ("Huawei Cloud Computing Technologies Co., Ltd.", "huawei"),
    ("Huawei Technologies Service Co., Ltd.", "huawei"),
    ("Shenzhen Huawei Technology Service Co., Ltd.", "huawei"),
    ("Huawei Digital Power Technologies Co., Ltd.", "huawei"),
    ("Huawei Software Technologies Co., Ltd.", "huawei"),
    ("Huawei Technologies (Thailand) Co., Ltd.", "huawei"),
    ("Huawei Technologies Japan K.K.", "huawei"),
    ("Huawei Tech. Investment Co., Ltd.", "huawei"),
    ("Beijing Huawei Digital Technologies Co., Ltd.", "huawei"),
    ("Hua Wei Technologies", "huawei"),
    ("Huawei Cloud Services GmbH", "huawei"),
    ("Huawei Technologies Düsseldorf GmbH", "huawei"),
    ("Huawei Technologies Coöperatief U.A.", "huawei"),
    ("Huawei Tech Investment Saudi Arabia", "huawei"),
    ("Dahua Technology Mexico S.A. de C.V.", "dahua"),
    ("Hikvision Dubai FZE", "hikvision"),
    ("Sugon Information Industry", "sugon"),
    ("Tianjin Sugon", "sugon"),
    ("Sugon Data Center", "sugon"),
    ("Zhong Ke Shu Guang", "sugon"),
    ("Dawning Information Industry (Beijing) Co., Ltd.", "sugon"),
    ("Biren", "biren"),
    ("Biren Technology", "biren"),
    ("Shanghai Biren Intelligent Technology Co., Ltd.", "biren"),
    ("Moore Threads Technology", "moore"),
    ("Moorethreads", "moore"),
    ("Moore Threads Intelligent Technology (Shanghai) Co., Ltd.", "moore"),
    ("DJI", "dji"),
    ("DJI Technology", "dji"),
    ("Shenzhen DJI Innovations Technology Co., Ltd.", "dji"),
    ("DJI Europe B.V.", "dji"),
    ("Da Jiang Innovations Science and Technology", "dji"),
    ("YMTC", "ymtc"),
    ("Yangtze Memory", "ymtc"),
    ("Wuhan Yangtze Memory Technologies", "ymtc"),
    ("SMIC", "smic"),
    ("SMIC Beijing", "smic"),
    ("Semiconductor Manufacturing International Corp.", "smic"),
    ("Semiconductor Manufacturing International (Shanghai) Corporation", "smic"),
    ("NUDT", "nudt"),
    ("National University of Defense Technology", "nudt"),
    ("National Univ. of Defense Technology", "nudt"),
    ("Harbin Inst. of Tech.", "hit"),
    ("Military Medical Sciences Academy", "amms"),
    ("Phytium", "phytium"),
    ("Tianjin Phytium", "phytium"),
    ("Phytium Information Technology Co., Ltd.", "phytium"),
    ("Hygon Information Technology", "hygon"),
    ("Chengdu Haiguang", "hygon"),
    ("Haiguang Integrated Circuit Design Co., Ltd.", "hygon"),
    ("Tianjin Sensetime Technology", "sensetime"),
]

# Unlisted names, real or realistic, that share generic words, places, letters or one word of a
# listed name. Screened with country CN: the country bonus must not tip any of them over.
MUST_NOT_HIT = [
    "Atlas Copco AB",
    "Bank of America, N.A.",
    "Banco Nacional de Costa Rica",
    "Banco de Chile",
    "Moore Industries International, Inc.",
    "Beijing Capital International Airport Co., Ltd.",
    "Beijing Bytedance Technology Co., Ltd.",
    "Sinopec Import and Export Co.",
    "China National Import and Export Corporation",
    "SME Finance Partners Ltd",
    "Rimac Automobili d.o.o.",
    "Caribbean Airlines Limited",  # one word off "Aerocaribbean": no longer flagged
    "Beijing Technology Development Co., Ltd.",
    "Shanghai Information Group",
    "Hangzhou Digital Technology Co., Ltd.",
    "Zhejiang Technology Co., Ltd.",
    "Shenzhen Cloud Computing Technologies Co., Ltd.",
    "Beijing Intelligent Technology Development Co., Ltd.",
    "Tianjin Information Technology Co., Ltd.",
    "Xiamen Information Co., Ltd.",
    "Inspire Group Holdings Limited",
    "Sense Technology Co., Ltd.",
    "Beijing Kuangda Technology Co., Ltd.",
    "Hangzhou Vision Digital Technology Co., Ltd.",
    "Moore Technology (Beijing) Co., Ltd.",
    "Threads Intelligent Technology Co., Ltd.",
    "China National Electronics Import and Export Corporation",
    "Semiconductor Manufacturing Services International",
    "Harbin Engineering University",
    "National University of Singapore",
    "Beijing Institute of Technology",
    "Huaxin Technologies Co., Ltd.",
    "Huawen Digital Technology Co., Ltd.",
    "Sugar Information Industry Co., Ltd.",
    "Zhongke Technology Co., Ltd.",
    "Beijing Zhongke Information Technology Co., Ltd.",
    "Meiya Trading Co., Ltd.",
    "Pico Technology Ltd.",
    "Xiamen Pico Information Co., Ltd.",
    "Bright Import and Export Co.",
    "SenseNets Technology Co., Ltd.",
    "Hikari Digital Technology Co., Ltd.",
    "Yangtze River Shipping Group",
    "Shenzhen Innovations Technology Co., Ltd.",
    "Chengdu Integrated Circuit Design Co., Ltd.",
    "Academy of Agricultural Sciences",
    "Nova Shipping Trading Co., Ltd.",
    "Solid Technology Co., Ltd.",
    "Shanghai Micro Electronics Equipment Co., Ltd.",
    "Dawn Information Industry Co., Ltd.",
]
