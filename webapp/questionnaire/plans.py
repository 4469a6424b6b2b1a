"""The five plans the frameworks quote (`Source.doc` = the seed file name), with their titles.

Framework items cite a plan by its seed file name and an exact quote from it; the questionnaire shows
the quote with the title of the plan it comes from.
"""

from __future__ import annotations

from scoring.model import Text

PLANS: dict[str, Text] = {
    "000_de1cf0e88028c599.txt": Text(
        zh="浙江省质量强省标准强省品牌强省建设“十四五”规划",
        en="Zhejiang 14th Five-Year Plan for a strong province in quality, standards and brands",
    ),
    "001_4363bfba873e2d09.txt": Text(
        zh="杭州市质量强市标准强市品牌强市建设“十四五”规划（杭市管〔2021〕99号）",
        en="Hangzhou 14th Five-Year Plan for a strong city in quality, standards and brands (2021)",
    ),
    "002_e4b5a35bce33822a.txt": Text(
        zh="杭州市全面贯彻落实《质量强国建设纲要》任务举措",
        en="Hangzhou's measures to implement the Outline for Building China's Strength in Quality",
    ),
    "003_6ee584acb5d75e9f.txt": Text(
        zh="浙江省发挥品牌引领作用、打造“浙江制造”品牌实施方案",
        en="Zhejiang implementation plan on brand leadership and the “Made in Zhejiang” brand (2016)",
    ),
    "004_ff91c7a900d110f5.txt": Text(
        zh="绍兴市质量发展“十四五”规划（绍政发〔2021〕19号）",
        en="Shaoxing 14th Five-Year Plan for quality development (2021)",
    ),
}


def plan_title(doc: str) -> Text:
    """The plan's title; an unknown file name is shown as it is."""
    return PLANS.get(doc) or Text(zh=doc, en=doc)
