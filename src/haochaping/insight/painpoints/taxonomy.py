"""The taxonomy of recurring 政务服务 problems that bad-review comments are classified into (docs/painpoints.md).

Each kind has a stable code (never renamed or reused: trends per problem compare across periods by code), a
Chinese name, a definition, example phrasings (the classifier's prototypes), key phrases that are evidence for it,
and the codes/wording of dictionary labels that are evidence for it. Built from the national label dictionary
(108/109/110/207/208/209), the provincial 差评 rules in REQUIREMENTS.md and common complaint wording.

Pure data: no ORM, no IO. Kinds a supervisor promotes from an emerging topic live in the database
(:class:`..models.PainPointKind`) and are added to these at classification time.
"""

from __future__ import annotations

from dataclasses import dataclass

UNCLASSIFIED = ""  # the code of a comment that fits no kind well enough
NEUTRAL_LEVEL = 3  # 基本满意: not a bad review, but its comment may still report a problem


@dataclass(frozen=True)
class Kind:
    code: str
    name: str
    definition: str
    examples: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()  # label codes that are evidence for this kind
    label_words: tuple[str, ...] = ()  # words in a (regional) label's text that are evidence for it
    boundary: str = ""  # how it differs from the kinds it is confused with (documentation; not a prototype)


KINDS: tuple[Kind, ...] = (
    Kind(
        "materials", "材料反复补正、一次性告知不到位",
        "申请材料清单不清楚，没有一次性告知需补正的内容，办事人被要求反复补交、修改、重签、重填材料。",
        ("材料没有一次说清楚，补了好几次", "每次去都说缺一样材料", "补正通知一次只说一个问题",
         "没有材料清单也没有样本，填错了又退回来", "交了材料又让重新打印盖章"),
        ("补材料", "补交", "补正", "缺材料", "材料清单", "样本", "一次性告知", "退回", "重新提交", "又要补"),
        ("207", "208"), ("材料样本", "材料清单", "一次性告知"),
        boundary="清单内材料的反复补正；清单之外另要证明属于额外证明",
    ),
    Kind(
        "proofs", "要求额外证明、兜底条款",
        "要求提供办事指南之外的证明或材料，出现“其他材料”兜底条款、循环证明、奇葩证明，或要已不存在的单位、"
        "很难找到的机构出具证明。",
        ("让我开一个证明我是我自己的证明", "指南上没有的证明也要我去开", "要社区开无犯罪证明才给办",
         "非要原单位盖章证明，单位早就倒闭了", "所谓其他材料到底是什么，随便加要求"),
        ("证明", "开证明", "盖章证明", "兜底", "其他材料", "指南之外", "奇葩证明", "无犯罪"),
        ("108", "109"), ("指南之外", "审批条件", "证明"),
    ),
    Kind(
        "trips", "多头跑、来回跑",
        "同一件事要在多个部门、多个窗口或多个楼层之间往返，或者要跑很多趟才能办成。",
        ("一件事跑了三个部门", "从一楼窗口让我去三楼，三楼又让我回一楼", "前前后后跑了五趟才办完",
         "不同部门互相要对方的盖章", "说好的一窗通办，结果还是要到各个窗口"),
        ("跑了", "来回跑", "跑腿", "多跑", "跑几趟", "好几趟", "跑断腿", "多个部门", "各个窗口", "一窗"),
        (), ("跑", "一窗"),
    ),
    Kind(
        "overdue", "办理时限长、超时未办结",
        "办理时间过长，超过承诺或法定时限仍未办结，审批拖延、压件。",
        ("说好五个工作日，一个月了还没批下来", "审批拖了两个多月", "超过承诺时限还没办完",
         "办个证要等半年", "一直在审核中，不知道要拖到什么时候"),
        ("超时", "超期", "拖延", "时限", "一个月", "还没批", "还没办好", "效率低", "太慢", "拖了"),
        ("110", "209"), ("超过法定", "承诺时间", "办理时间", "时限"),
        boundary="说的是办得慢；不知道办到哪一步属于进度不透明",
    ),
    Kind(
        "queue", "排队等候时间长",
        "在大厅现场排队、取号、叫号等候的时间太长，人多、队长。",
        ("排了两个小时的队", "取号后前面还有八十多人", "等了一上午都没叫到我的号", "队伍排到门外了",
         "早上七点来排队，中午才轮到"),
        ("排队", "取号", "叫号", "等号", "排长队", "等了一上午", "等了半天", "前面还有", "拿号", "轮到", "个小时", "钟头"),
        (), ("排队", "等候"),
        boundary="说的是等候本身，不是窗口没人或预约难",
    ),
    Kind(
        "staffing", "窗口开放不足、人员不在岗",
        "开放窗口少、工作人员离岗、不在岗、迟到、提前下班、提前停止收件或午休无人值班，人手不足。",
        ("十个窗口只开了两个", "工作人员不在座位上，窗口没人", "还没到下班时间就不办了", "中午一个人都没有",
         "窗口人员玩手机聊天不干活",
         "一排柜台大多空着，只有一个在办", "窗口挂着暂停服务的牌子，人不知去向"),
        ("只开了", "窗口少", "没人", "不在岗", "离岗", "提前下班", "午休", "人手不足", "玩手机", "聊天", "空着",
         "暂停服务", "值班", "不收件", "关窗口"),
        (), ("在岗", "人手"),
        boundary="原因在窗口和人员；只说等得久属于排队等候",
    ),
    Kind(
        "booking", "预约难",
        "网上或电话预约约不上、号源少、抢不到号、预约电话打不进、预约后仍要排队或被取消，预约规则不合理。",
        ("预约号一放出来就没了", "连续一周都约不上", "预约了到现场还是要重新排", "只能线上预约，老人不会用",
         "预约系统显示全满"),
        ("预约", "约不上", "号源", "抢号", "约满", "放号", "抢不到", "约到", "约好", "约了"),
        (), ("预约",),
        boundary="系统故障本身属于系统故障",
    ),
    Kind(
        "attitude", "服务态度差",
        "工作人员态度生硬、冷漠、不耐烦、说话难听、训斥、甩脸色或辱骂办事群众。",
        ("工作人员很凶，说话很冲", "问两句就不耐烦", "爱答不理，头都不抬", "对老人大声呵斥",
         "态度冷漠，像是欠他钱一样"),
        ("态度", "不耐烦", "很凶", "凶巴巴", "爱答不理", "呵斥", "冷漠", "脸色", "骂人", "吼", "白眼", "难听", "训",
         "阴阳怪气", "摔", "扔"),
        (), ("态度", "热情", "耐心"),
        boundary="说的是怎么对人，不是推给别人不办事",
    ),
    Kind(
        "shirking", "推诿扯皮、不作为",
        "以不归本部门管、要请示领导、系统不支持等理由把事推给别的部门或别人，互相踢皮球，反映了也没人负责跟进、不了了之，不作为。",
        ("说不归他们管，让我去找别的部门", "两个部门互相推", "问题一直没人解决，都说找领导",
         "能办的事找各种理由不给办", "踢皮球，谁都不负责",
         "这个科室让我找那个科室，那个科室又让我回来找这个科室", "答应帮我协调，之后再问就说不清楚谁负责了"),
        ("推诿", "踢皮球", "不归", "不管", "互相推", "扯皮", "不作为", "没人负责", "推来推去", "踢来踢去", "打发",
         "不了了之", "不是我们", "找别的部门", "请示", "不担责"),
        (), ("推诿", "不作为"),
        boundary="说的是不办事、不担责，不是说话的态度",
    ),
    Kind(
        "online", "系统故障、网上办不了",
        "网上办事平台、App、小程序、自助机或内部系统故障、卡顿、打不开、登录或认证失败、提交不了，网上办不了或只能线下办。",
        ("网上办事大厅一直打不开", "App提交到最后一步就报错", "系统崩了，窗口说办不了", "自助机坏了没人修",
         "号称全程网办，最后还是要去现场",
         "登录时验证码一直收不到", "人脸认证反复失败，网页提交不了"),
        ("系统", "网上", "网站", "app", "小程序", "自助机", "卡顿", "报错", "打不开", "闪退", "崩", "网办", "上传",
         "登录", "页面", "验证码", "认证", "终端", "白屏"),
        (), ("系统", "网上", "网办"),
        boundary="约不上号属于预约难",
    ),
    Kind(
        "fees", "收费不合理、乱收费",
        "收取不该收的费用、收费标准不透明、指定中介或强制有偿服务。",
        ("说是免费，结果收了两百", "让我去指定的中介办，收费很贵", "复印一张要五块钱",
         "收费没有票据，也说不清标准", "强制买他们的表格"),
        ("收费", "乱收费", "交钱", "费用", "中介", "贵", "收了", "块钱", "元"),
        (), ("收费", "费用"),
    ),
    Kind(
        "policy", "政策解释不清、标准不一",
        "工作人员对政策和办理条件说不清、说不出依据，不同人员、不同窗口、不同时间或不同地方的口径和标准不一致，随意解释。",
        ("问了三个人，三种说法", "政策讲不清楚，只说不行", "这个区能办，那个区又说不能办",
         "昨天说可以，今天换个人又说不行", "解释不了为什么不符合条件",
         "问是哪条规定，也说不出依据", "同样的情况别人办下来了，我就不行，尺度不一"),
        ("政策", "说法", "口径", "标准不一", "解释", "说不清", "不一样", "讲不清", "依据", "规定", "尺度", "答复不同",
         "搞不明白"),
        (), ("政策", "解释"),
        boundary="问题在人的说法；书面公布的指南与实际不符属于办事指南",
    ),
    Kind(
        "guide", "办事指南不准确、信息不一致",
        "网上或窗口书面公布的办事指南、材料目录、流程、办理地点、时间和电话与实际不一致，信息过时。",
        ("网上写的材料和窗口要的不一样", "办事指南几年没更新了", "指南上写周六办公，来了没开门",
         "公布的地址早就搬走了", "官网说可以网办，窗口说必须现场"),
        ("指南", "官网", "网上写", "公布", "没更新", "过时", "写的", "说明"),
        (), ("指南",),
        boundary="问题在公布的信息，不在工作人员的口头说法",
    ),
    Kind(
        "progress", "进度不透明、结果不送达",
        "查不到办理进度，办件状态不更新，没有短信或电话通知，结果没有按承诺送达或邮寄，咨询电话无人接听、问询无人答复。",
        ("不知道办到哪一步了", "说好邮寄，证件一直没收到", "打电话问进度一直没人接", "办好了也不通知",
         "网上查进度一直显示受理中",
         "交上去以后再没有任何消息，也不知道找谁问", "证件寄出了也不给快递单号"),
        ("进度", "通知", "邮寄", "快递", "没收到", "送达", "查不到", "没人接", "答复", "回复", "没下文", "没消息",
         "状态", "单号", "音讯", "回音", "打电话问"),
        (), ("进度", "送达"),
        boundary="说的是不知情；只说办得慢、超过时限属于超时未办结",
    ),
    Kind(
        "facilities", "场所设施和环境差",
        "办事场所难找、停车难、座位少、无障碍和便民设施缺失，环境嘈杂或闷热。",
        ("大厅没有空调，热得要命", "停车位太少，转了半小时", "等候区没几张椅子", "没有无障碍通道，轮椅上不去",
         "大厅太吵，叫号都听不见"),
        ("停车", "空调", "椅子", "座位", "无障碍", "厕所", "环境", "设施", "太吵", "找不到地方", "指示牌"),
        (), ("设施", "环境"),
    ),
)

BY_CODE = {k.code: k for k in KINDS}


def names(extra: tuple[Kind, ...] = ()) -> dict[str, str]:
    """Code -> Chinese name of the built-in kinds and ``extra`` ones."""
    return {k.code: k.name for k in (*KINDS, *extra)}


def prototypes(kind: Kind) -> tuple[str, ...]:
    """The texts embedded as the kind's prototypes: its name, definition and example phrasings."""
    return (kind.name, kind.definition, *kind.examples)


def label_votes(labels: tuple[str, ...], label_texts: dict[str, str], kinds: tuple[Kind, ...]) -> dict[str, float]:
    """How much the chosen dictionary labels speak for each kind: 1 for a mapped code, 0.5 for a matching word in
    the label's text (regional dictionaries word theirs differently). Evidence, never the only signal."""
    votes: dict[str, float] = {}
    for code in labels:
        text = label_texts.get(code, "")
        for kind in kinds:
            if code in kind.labels:
                votes[kind.code] = max(votes.get(kind.code, 0.0), 1.0)
            elif text and any(w in text for w in kind.label_words):
                votes[kind.code] = max(votes.get(kind.code, 0.0), 0.5)
    return votes
