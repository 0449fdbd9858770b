"""Chinese names of what the warehouse holds, for whoever shows it (the dashboard, and the ETL's reports: the pilot
programme's evidence): the measures of the rollups, the datasets, and per fact table the columns and coded values
(what a record's header and cell say).

A value a feed writes as a code (a case's category ``request``) is shown by its label (请求); a value without one
(an incident's kind, a product: free text from a county's files) is shown as it is. Tests check every name and
label here against the datasets that declare the measures and values (etl/datasets), so all speak of the same ones.
"""

from __future__ import annotations

# Columns every fact has, and names several tables share; a table's own entries below win.
COMMON_COLUMNS = {
    "region_code": "区划",
    "event_time": "时间",
    "lon": "经度",
    "lat": "纬度",
    "kind": "类型",
    "status": "状态",
    "title": "标题",
    "amount": "金额",
    "quantity": "数量",
    "product": "产品",
    "source": "来源",
    "satisfaction": "满意度",
    "body": "正文",
}
COLUMNS = {
    "cases": {
        "case_id": "事件编号",
        "event_time": "受理时间",
        "category": "类别",
        "module": "模块",
        "channel": "渠道",
        "reporter_name": "反映人",
        "reporter_phone": "联系电话",
        "escalation": "层级",
        "handled_at": "处置时间",
        "closed_at": "办结时间",
        "rated_at": "评价时间",
        "due_at": "办理期限",
    },
    "incidents": {"incident_id": "事件编号", "event_time": "发生时间", "kind": "事件类型"},
    "devices": {"device_id": "设备编号", "name": "设备名称", "kind": "设备类型", "event_time": "安装时间"},
    "orders": {"order_id": "订单号", "event_time": "下单时间"},
    "waste_trips": {"trip_id": "清运单号", "tonnage": "清运量", "sorted_share": "分类率", "event_time": "清运时间"},
    "tourism": {"record_id": "记录编号", "visitors": "游客数", "homestay_bookings": "农家乐预订", "event_time": "日期"},
    "livelihood": {"event_id": "活动编号", "participants": "参与人数", "event_time": "活动时间"},
    "points_ledger": {"entry_id": "流水号", "household_code": "户码", "points": "积分", "event_time": "记分时间"},
    "party_activities": {"activity_id": "活动编号", "attendees": "参加人数", "event_time": "活动时间"},
    "disclosures": {"disclosure_id": "公开编号", "direction": "收支", "period": "所属月份", "event_time": "公开时间"},
    "labour_pool": {"status": "就业状态", "people": "人数", "event_time": "统计日期"},
    "jobs": {"posting_id": "岗位编号", "positions": "岗位数", "matched": "已对接", "event_time": "发布时间"},
    "farm_output": {"record_id": "记录编号", "unit": "单位", "event_time": "日期"},
    "deliberations": {
        "matter_id": "议事编号",
        "title": "议题",
        "form": "议事形式",
        "participants": "参与人数",
        "votes_for": "赞成票",
        "votes_against": "反对票",
        "decided_at": "表决时间",
        "outcome": "表决结果",
        "event_time": "发起时间",
    },
    "gov_services": {
        "application_id": "办件编号",
        "service": "办理事项",
        "channel": "办理渠道",
        "mode": "办理方式",
        "appointment_at": "预约时间",
        "received_at": "受理时间",
        "completed_at": "办结时间",
        "feedback_at": "评价时间",
        "event_time": "申请时间",
    },
    "labour_profiles": {
        "worker_id": "登记编号",
        "status": "就业状态",
        "education": "学历",
        "skills": "特长",
        "hobbies": "爱好",
        "wanted_job": "求职意向",
        "event_time": "登记日期",
    },
    "supervision_items": {
        "item_id": "事项编号",
        "subject": "监督事项",
        "source": "提出方",
        "title": "内容",
        "replied_at": "答复时间",
        "event_time": "提出时间",
    },
    "toilets": {
        "record_id": "记录编号",
        "toilet_id": "厕所编号",
        "kind": "记录类型",
        "repaired_at": "修复时间",
        "detail": "说明",
    },
    "traceability": {"record_id": "记录编号", "action": "操作", "batch": "批次", "codes": "码数"},
    "weather_forecasts": {
        "issued_at": "发布时间",
        "condition": "天气",
        "temperature": "气温",
        "precipitation": "降水概率",
        "event_time": "预报时间",
    },
    "readings": {"device_id": "设备编号", "metric": "指标", "value": "读数", "event_time": "读数时间"},
    "bus_arrivals": {
        "stop_id": "站点编号",
        "route": "线路",
        "direction": "方向",
        "observed_at": "采集时间",
        "event_time": "预计到站时间",
    },
    "bus_stops": {"stop_id": "站点编号", "name": "站名", "event_time": "登记时间"},
    "catalogue_items": {"item_id": "商品编号", "name": "名称", "points": "所需积分", "note": "说明"},
    "households": {
        "household_code": "户码",
        "head_name": "户主",
        "head_phone": "户主电话",
        "members": "人口",
        "door_plate": "门牌",
        "village_group": "组",
    },
    "publicity": {"item_id": "编号", "valid_until": "有效期至", "event_time": "发布时间"},
    "pilot_status": {
        "programme_id": "试点方案",
        "pilot_id": "试点编号",
        "period": "所属月份",
        "milestone": "里程碑",
        "note": "备注",
    },
    "pilot_funds": {
        "programme_id": "试点方案",
        "pilot_id": "试点编号",
        "period": "所属月份",
        "allocated": "下达资金",
        "disbursed": "已拨付",
        "spent": "已支出",
        "note": "备注",
    },
}
# Units of numeric columns, shown in headers (and in an export's header row).
UNITS = {
    ("orders", "amount"): "元",
    ("disclosures", "amount"): "元",
    ("waste_trips", "tonnage"): "吨",
    ("waste_trips", "sorted_share"): "比例",
    ("tourism", "visitors"): "人次",
    ("livelihood", "participants"): "人",
    ("party_activities", "attendees"): "人",
    ("labour_pool", "people"): "人",
    ("jobs", "positions"): "个",
    ("jobs", "matched"): "个",
    ("points_ledger", "points"): "分",
    ("deliberations", "participants"): "人",
    ("deliberations", "votes_for"): "票",
    ("deliberations", "votes_against"): "票",
    ("traceability", "codes"): "个",
    ("weather_forecasts", "temperature"): "°C",
}
CASE_CATEGORIES = {"conflict": "矛盾", "dispute": "纠纷", "request": "请求", "appeal": "诉求"}
CASE_MODULES = {
    "general": "综合",
    "online_mediation": "线上矛调",
    "petition": "信访投诉",
    "exposure": "曝光台",
    "clean_village": "清廉乡村",
}
CASE_CHANNELS = {"qr_code": "二维码", "phone": "电话", "visit": "来访", "grid_worker": "网格员"}
CASE_STATUSES = {"received": "受理", "in_progress": "处置中", "closed": "办结", "rated": "已评价"}
ESCALATIONS = {"village": "村", "township": "镇", "county": "县"}
DEVICE_KINDS = {
    "bin": "垃圾桶",
    "sewage_plant": "污水处理站",
    "air": "空气监测",
    "weather": "气象站",
    "soil": "土壤墒情",
    "greenhouse": "大棚",
    "camera": "摄像头",
    "livestock_house": "养殖舍",
}
VALUES = {
    ("cases", "category"): CASE_CATEGORIES,
    ("cases", "module"): CASE_MODULES,
    ("cases", "channel"): CASE_CHANNELS,
    ("cases", "status"): CASE_STATUSES,
    ("cases", "escalation"): ESCALATIONS,
    ("incidents", "status"): {"open": "未办结", "closed": "已处理"},
    ("devices", "kind"): DEVICE_KINDS,
    ("disclosures", "kind"): {
        "village_affairs": "村务",
        "finance": "财务",
        "party_affairs": "党务",
        "government_affairs": "政务",
    },
    ("disclosures", "direction"): {"income": "收入", "expense": "支出"},
    ("livelihood", "kind"): {
        "teleconsultation": "远程会诊",
        "online_class": "线上课堂",
        "training": "培训",
        "culture_event": "文化活动",
    },
    ("party_activities", "kind"): {
        "branch_meeting": "支部党员大会",
        "committee_meeting": "支委会",
        "group_meeting": "党小组会",
        "party_lecture": "党课",
        "other": "其他",
    },
    ("points_ledger", "source"): {
        "civility": "文明诚信",
        "waste_sorting": "垃圾分类",
        "platform_use": "平台使用",
        "volunteer": "志愿服务",
        "redemption": "兑换",
    },
    ("labour_pool", "status"): {"migrant": "外出务工", "local": "本地就业", "unemployed": "待业"},
    ("labour_profiles", "status"): {"migrant": "外出务工", "local": "本地就业", "unemployed": "待业"},
    ("catalogue_items", "status"): {"on": "上架", "off": "下架"},
    ("deliberations", "status"): {
        "consulting": "征求意见",
        "voting": "表决中",
        "decided": "已表决",
        "published": "已公示",
    },
    ("gov_services", "mode"): {"single": "单独办理", "joint": "并联审批"},
    ("gov_services", "status"): {
        "appointed": "已预约",
        "received": "已受理",
        "in_progress": "办理中",
        "completed": "已办结",
    },
    ("pilot_status", "status"): {"not_started": "未开始", "in_progress": "进行中", "done": "已完成", "delayed": "滞后"},
    ("supervision_items", "source"): {"villager": "村民", "committee": "村务监督委员会"},
    ("supervision_items", "status"): {"received": "已受理", "in_progress": "办理中", "replied": "已答复"},
    ("deliberations", "form"): {"online": "线上议事", "assembly": "村民会议", "representatives": "村民代表会议"},
    ("gov_services", "channel"): {"online": "网上办", "mobile": "掌上办", "counter": "窗口", "proxy": "代办"},
    ("epidemic", "kind"): {"health_check": "健康监测", "vaccination": "疫苗接种", "monitoring_point": "监测点"},
    ("toilets", "kind"): {"renovation": "改造", "inspection": "巡检", "fault": "故障", "desludging": "粪污清运"},
    ("traceability", "action"): {"issued": "赋码", "scanned": "扫码"},
    ("supervision_items", "subject"): {
        "village_affairs": "村务",
        "finance": "财务",
        "projects": "工程项目",
        "benefits": "惠民资金",
        "other": "其他",
    },
    ("labour_profiles", "education"): {
        "primary": "小学及以下",
        "junior": "初中",
        "senior": "高中",
        "vocational": "中专/职高",
        "college": "大专",
        "bachelor": "本科",
        "master": "研究生",
    },
}
# Columns that name or reach a person: masked for every role but the village cadre (see dashboard/workspace/
# privacy.py); they are never a filter or a sort key.
PERSONAL = {
    ("cases", "reporter_name"),
    ("cases", "reporter_phone"),
    ("households", "head_name"),
    ("households", "head_phone"),
}
# The Chinese names of the measures the datasets declare (etl/datasets), as rollups.measure holds them: what the
# workspace, the screens and the pilot programme's evidence call each one.
MEASURE_NAMES = {
    "cases.received": "受理事件",
    "cases.received_by_module": "受理事件（按模块）",
    "cases.closed": "办结事件",
    "cases.closed_on_time": "按期办结",
    "cases.satisfaction": "群众满意度",
    "democracy.deliberations": "民主议事",
    "democracy.participants": "议事参与",
    "democracy.decided": "议事已表决",
    "democracy.supervision": "民主监督事项",
    "democracy.supervision_replied": "监督已答复",
    "disclosures.published": "三务公开",
    "finance.amount": "村级财务收支",
    "party.activities": "党组织活动",
    "party.attendees": "党员参加",
    "ecommerce.sales": "电商销售额",
    "farm.output": "农产品产量",
    "tourism.visitors": "乡村游客",
    "tourism.bookings": "农家乐预订",
    "jobs.positions": "招聘岗位",
    "jobs.matched": "岗位对接",
    "labour.people": "劳动力",
    "labour.registered": "登记劳动力",
    "labour.with_skills": "有特长劳动力",
    "trace.codes": "追溯码",
    "livelihood.events": "便民服务活动",
    "livelihood.participants": "服务人次",
    "points.earned": "积分",
    "gov.appointments": "政务预约",
    "gov.received": "政务受理",
    "gov.joint": "并联办理",
    "gov.completed": "政务办结",
    "gov.feedback": "办事评价",
    "gov.satisfaction": "办事满意度",
    "epidemic.quantity": "疫情防控",
    "waste.tonnage": "垃圾清运量",
    "waste.sorted_share": "垃圾分类率",
    "toilets.records": "农厕记录",
    "toilets.repaired": "农厕修复",
    "devices.installed": "物联设备",
    "forecast.temperature": "预报气温",
    "security.incidents": "治安事件",
}
# reading.{metric}: the name of each metric of the readings.
METRIC_NAMES = {
    "fill_level": "垃圾桶满溢度",
    "cod": "污水COD",
    "nh3n": "污水氨氮",
    "flow": "污水处理量",
    "pm25": "PM2.5",
    "aqi": "空气质量指数",
    "temperature": "气温",
    "humidity": "湿度",
    "rainfall": "降雨量",
    "wind_speed": "风速",
    "soil_moisture": "土壤墒情",
    "ammonia": "养殖舍氨气",
    "co2": "养殖舍二氧化碳",
    "online": "摄像头在线率",
}
# Each dataset's name (etl/datasets; feed_state.dataset holds it).
DATASET_NAMES = {
    "bus_arrivals": "公交到站",
    "bus_stops": "公交站点",
    "cases": "治理事件",
    "catalogue": "兑换目录",
    "deliberations": "民主议事",
    "devices": "物联设备",
    "disclosures": "公开信息",
    "epidemic": "疫情防控",
    "farm_output": "农产品产量",
    "gov_services": "政务服务",
    "households": "农户",
    "incidents": "治安事件",
    "jobs": "招聘岗位",
    "labour_pool": "劳动力统计",
    "labour_profiles": "劳动力信息库",
    "livelihood": "便民服务活动",
    "orders": "电商订单",
    "party_activities": "党组织活动",
    "pilot_funds": "试点资金",
    "pilot_status": "试点进度",
    "points_ledger": "积分流水",
    "publicity": "政策宣传",
    "readings": "设备读数",
    "supervision": "民主监督",
    "toilets": "农厕",
    "tourism": "乡村旅游",
    "traceability": "质量安全追溯",
    "waste_trips": "垃圾清运",
    "weather_forecasts": "天气预报",
}


def column_label(table: str, column: str) -> str:
    """The header of a column: the table's own label, a shared one, or the column's name."""
    return COLUMNS.get(table, {}).get(column) or COMMON_COLUMNS.get(column) or column


def value_label(table: str, column: str, value) -> str:
    """A coded value's label (请求 for request); any other value as text ('' for none)."""
    if value is None:
        return ""
    return VALUES.get((table, column), {}).get(value, str(value))


def values_of(table: str, column: str) -> dict[str, str]:
    """The labelled values of a coded column ({} for free text)."""
    return VALUES.get((table, column), {})


def measure_name(name: str) -> str:
    """A measure's name (污水COD for reading.cod); an unnamed one as it is."""
    prefix = "reading."
    if name.startswith(prefix) and name[len(prefix) :] in METRIC_NAMES:
        return METRIC_NAMES[name[len(prefix) :]]
    return MEASURE_NAMES.get(name, name)


def dataset_name(name: str) -> str:
    """A dataset's name (治理事件 for cases); an unnamed one as it is."""
    return DATASET_NAMES.get(name, name)
