"""What the console says when something is refused, in Simplified Chinese. The domain's own
messages are English (they serve the API and the logs); the console shows the Chinese text of a
known code, else a general sentence with the code and the domain's message, so that nothing is
hidden from the user or from whoever they ask for help.

Every code raised by the code the console calls has a text here
(tests/unit/test_console_messages.py walks it): also codes of commands the console has no form
for yet, so that a page added later speaks Chinese from the start."""

from __future__ import annotations

ERROR_ZH: dict[str, str] = {
    # identity
    "id_number_malformed": "公民身份号码应为 18 位（前 17 位数字，末位数字或 X），"
                           "请核对后重新输入。",
    "id_number_check_digit": "公民身份号码校验位不正确，请核对证件后重新输入。",
    "id_number_birth_date": "公民身份号码中的出生日期无效，请核对证件后重新输入。",
    "person_not_registered": "本统筹区未查到该参保人，请核对公民身份号码。",
    "credit_code_malformed": "统一社会信用代码应为 18 位数字或大写字母（不含 I、O、Z、S、V），"
                             "请对照营业执照重新输入。",
    "credit_code_check_char": "统一社会信用代码校验位不正确，请对照营业执照重新输入。",
    # reasons for reading a person's record (查询留痕)
    "access_reason_missing": "查询参保人信息须先选择查询事由。",
    "access_reason_unknown": "查询事由无效，请从列表中选择。",
    "access_note_missing": "该查询事由须填写备注（如投诉编号、协助查询通知书编号）。",
    "access_note_too_long": "备注过长，请精简后重新填写。",
    "access_note_malformed": "备注的字符编码不正确，请重新填写。",
    "request_id_malformed": "请求编号格式不正确（1–64 位字母、数字或 . _ : -）。",
    "person_filter_conflict": "人员编号与公民身份号码不是同一人，请只填写其中一项。",
    # staff, roles and sign-in
    "token_missing": "未提供令牌，请重新登录。",
    "token_invalid": "令牌无效或该用户已停用。请核对令牌，或联系系统管理员重新签发。",
    "role_forbidden": "您的角色无权进行此操作。如需开通，请联系系统管理员。",
    "user_not_found": "该用户不存在或已停用，请联系系统管理员。",
    "user_exists_other_roles": "该用户已存在且角色不同；如需调整角色，请联系系统管理员。",
    "username_malformed": "用户名应为 2–64 位小写字母、数字或 _ . -。",
    "role_missing": "请至少为用户指定一个角色。",
    "role_unknown": "角色不存在，请从系统角色中选择。",
    # cases (综合柜员制)
    "case_not_found": "未找到该办件（可能尚未同步，请稍后刷新）。",
    "case_id_malformed": "办件编号格式不正确。",
    "case_closed": "该办件已结束（已办结、已退回或已撤回），不能再操作。",
    "maker_cannot_sign": "受理人不能审核自己受理的办件（审核分离）。",
    "already_signed": "您已签批过该办件，下一环节须由其他人员签批。",
    "role_not_allowed_at_step": "当前环节不由您的角色签批。",
    "materials_missing": "必需的申请材料尚未上传齐全，暂不能签批。",
    "no_signoff_needed": "该事项为三级风险事项，由受理人直接办结，无需签批。",
    "reject_not_allowed": "您不能在当前环节退回该办件（受理人本人或非本环节角色不能退回）。",
    "reason_missing": "请填写原因（如退回原因）。",
    "reason_too_long": "原因过长，请精简后重新填写。",
    "signoff_required": "该办件须完成全部签批后方可办结。",
    "only_maker_completes": "只有受理人本人可以办结该办件。",
    "only_maker_withdraws": "只有受理人本人可以撤回该办件（应申请人要求）。",
    "case_not_completed": "只有已办结的办件才能评价。",
    "case_already_rated": "该办件已评价，不能重复评价。",
    "score_invalid": "评价分值应为 1（非常不满意）至 5（非常满意）。",
    "scope_unknown": "办件队列类型不正确，请从菜单进入。",
    "item_unknown": "事项目录中没有该事项，请从目录中选择。",
    "item_not_available": "该事项暂不能在本系统办理，请在原业务系统中办理。",
    "item_not_authorised": "您未获授权受理该事项，请按程序申请授权，由系统管理员开通。",
    "grant_and_revoke": "同一事项不能同时授权和撤销。",
    "payload_item_unknown": "申请内容中有不属于该事项的项目，请核对。",
    "payloads_malformed": "申请内容格式不正确，请核对。",
    # case materials
    "material_not_found": "未找到该材料。",
    "material_unknown": "该材料不属于此事项，请按事项要求的材料上传。",
    "material_corrupted": "该材料文件已损坏或被改动（与存档时的哈希值不符），不能提供下载。"
                          "请联系系统管理员从备份恢复。",
    "material_empty": "上传的文件为空，请重新选择文件。",
    "material_too_large": "文件过大，请降低扫描分辨率或拆分后上传。",
    "material_type_not_accepted": "仅接受 PDF、JPEG、PNG 或 TIFF 格式的文件，请重新扫描后上传。",
    "sha256_malformed": "材料编号格式不正确（应为 64 位十六进制字符）。",
    # alerts (风险预警)
    "alert_not_found": "未找到该预警。",
    "alert_id_malformed": "预警编号格式不正确。",
    "alert_closed": "该预警已办结，不能再认领。",
    "alert_already_closed": "该预警已办结。",
    "alert_already_acknowledged": "该预警已由其他人员认领。",
    "alert_about_actor": "该预警涉及您本人经办的业务，须由其他稽核人员处理（回避）。",
    "resolution_missing": "请填写办结说明。",
    "resolution_too_long": "办结说明过长，请精简后重新填写。",
    "resolution_malformed": "办结说明应为文本。",
    "note_too_long": "备注过长，请精简后重新填写。",
    "note_malformed": "备注应为文本。",
    "rule_unknown": "预警规则不存在，请从列表中选择。",
    "status_unknown": "状态不正确，请从列表中选择。",
    # registration (参保登记)
    "employer_not_registered": "本统筹区未查到该单位，请核对统一社会信用代码，或先办理单位登记。",
    "employer_already_registered": "该单位已登记且信息不同；如需修改，请办理单位信息变更。",
    "employer_type_unknown": "单位类型不正确，请从列表中选择。",
    "person_already_registered": "该公民身份号码已以其他姓名登记；如需修改，"
                                 "请办理个人基本信息变更。",
    "registered_before_birth": "参保登记日期早于公民身份号码中的出生日期，请核对。",
    "name_missing": "姓名不能为空。",
    "name_unchanged": "姓名与登记信息相同，无需变更。",
    "employment_open": "该参保人与原单位的劳动关系尚未终止，请先办理减员（停保）。",
    "employment_not_open": "该参保人与该单位没有存续的劳动关系。",
    "employment_overlap": "新劳动关系的开始日期须晚于上一段劳动关系的终止日期。",
    "employment_end_before_start": "劳动关系终止日期早于开始日期，请核对。",
    "person_already_retired": "该参保人已办理退休。",
    "person_still_employed": "该参保人仍有存续的劳动关系：请先办理减员（停保），"
                             "或在“退休一件事”中一并办理。",
    "risk_class_out_of_range": "行业风险类别应为 1–8 类。",
    "risk_class_unchanged": "行业风险类别与现有类别相同，无需变更。",
    "risk_class_change_out_of_order": "行业风险类别变更的生效日期须晚于上次变更。",
    "effective_from_not_month_start": "行业风险类别变更须自某月 1 日起生效。",
    "death_already_recorded": "该参保人已登记死亡，不能重复登记。",
    "death_before_birth": "死亡日期早于出生日期，请核对。",
    "death_in_future": "死亡日期晚于今天，请核对。",
    "evidence_missing": "请填写死亡依据（如死亡医学证明、户籍注销证明）。",
    # contributions (核定与入账)
    "base_out_of_bounds": "缴费基数超出当年公布的上下限，请按上下限调整后申报。",
    "insurance_unknown": "险种代码不存在（应为 110 养老、210 失业、310 医疗、410 工伤、"
                         "510 生育）。",
    "insurance_duplicate": "同一险种重复列出，请删除重复项。",
    "insurance_already_posted": "该险种该月已入账：请退款，或先红冲该月后重新入账。",
    "month_already_posted": "该月已按其他金额入账，请先红冲。",
    "month_employer_differs": "该月已由其他单位入账：如款项确属该单位请指定该单位，否则请退款。",
    "month_not_posted": "该月尚未入账或已红冲，请先重新入账。",
    "month_reversed": "该月已红冲：请先重新入账再分配款项，或退款。",
    "amount_differs": "实收金额与核定金额不一致，已按本统筹区规则挂暂收：请核实后分配或退款。",
    "idempotency_key_length": "请求幂等键长度应为 1–200 个字符。",
    "idempotency_key_reused": "该请求幂等键已用于其他请求，请使用新的键。",
    # amounts, periods and dates
    "amount_not_a_number": "金额格式不正确，应为以元为单位的数字（最多两位小数）。",
    "amount_not_integer_fen": "金额须精确到分（最多两位小数）。",
    "amount_negative": "金额不能为负数。",
    "amount_too_large": "金额超出允许的上限，请核对该列数据。",
    "amount_zero": "金额为零，请删除该行。",
    "period_malformed": "期间格式应为 YYYY-MM（如 2024-01）。",
    "period_out_of_range": "期间超出允许的年份范围，请核对。",
    "period_range_empty": "起始期间晚于截止期间，请调整查询范围。",
    "date_malformed": "日期格式应为 YYYY-MM-DD。",
    "date_range_reversed": "起始日期晚于截止日期，请调整查询范围。",
    "year_malformed": "年度应为整数（如 2024）。",
    "year_out_of_range": "年度超出可查询的范围，请重新选择。",
    "calendar_year_missing": "工作日历缺少该年度的节假日安排，请联系系统管理员补充。",
    # policy tables (政策参数)
    "policy_base_bounds_missing": "政策参数缺少该年度的缴费基数上下限，"
                                  "请联系系统管理员按公布标准补充。",
    "policy_rate_missing": "政策参数缺少该险种该期间的缴费比例，请联系系统管理员补充。",
    "policy_work_injury_rate_missing": "政策参数缺少该行业风险类别该期间的工伤保险费率，"
                                       "请联系系统管理员补充。",
    "policy_interest_rate_missing": "政策参数缺少该年度的记账利率（每年 6 月公布上年利率），"
                                    "请联系系统管理员补充。",
    "policy_late_fee_rate_missing": "政策参数缺少该日适用的滞纳金比例，请联系系统管理员补充。",
    # back-payments (补缴)
    "backpay_amount_differs": "征收金额与补缴核定金额不符：请将款项挂暂收，并与税务部门核对。",
    "backpay_assessment_expired": "征收日期晚于核定的缴款期限，滞纳金和利息已增加："
                                  "请撤销后重新核定。",
    "backpay_month_not_due": "该月在缴款期限时尚未到期，不属于补缴，请按正常月份入账。",
    "backpay_no_months": "补缴起始期间晚于截止期间，请核对。",
    "backpay_collected": "该补缴已征收入账，不能再操作；如仍有欠缴，请重新核定。",
    "backpay_cancelled": "该补缴核定已撤销，不能再操作；如仍需补缴，请重新核定。",
    "backpay_span_too_long": "补缴月数超过上限，请分次办理或核对期间。",
    # pensions (待遇)
    "contribution_years_short": "累计缴费年限不足按月领取养老金的最低年限："
                                "请延长缴费或一次性补足。",
    "first_payment_scheduled": "首次发放已安排，不能重复安排。",
    "retirement_age_outside_table": "退休年龄超出计发月数表的范围（40–70 岁），请核对。",
    "link_before_retirement_age": "未到退休年龄，暂不能转入城乡居民养老保险，请继续缴费。",
    "link_not_needed": "职工养老保险缴费年限已满足按月领取条件，请办理退休审批，"
                       "无需转入城乡居民养老保险。",
    "adjustment_rule_missing": "政策参数缺少本省该年度的养老金调整办法，"
                               "请联系系统管理员按公布的调整方案补充。",
    "payment_period_in_future": "发放年月尚未开始，不能提前发放养老金，请核对发放年月。",
    # pension transfers between pooling regions (跨统筹区转移接续)
    "region_code_malformed": "对方统筹区代码应为 6 位行政区划代码（如 330106），请核对联系函。",
    "transfer_within_region": "对方统筹区不能是本统筹区：转移接续在不同统筹区之间办理。",
    "region_name_missing": "请填写对方社会保险经办机构名称"
                           "（如 杭州市西湖区社会保险事业管理中心）。",
    "region_name_too_long": "对方经办机构名称过长，请按联系函上的名称精简填写。",
    "transfer_no_malformed": "转移编号应为 6–40 位字母、数字或 -，请按联系函编号填写。",
    "transfer_months_missing": "请按信息表列出转移的缴费月份（起始年月、截止年月、月缴费基数）。",
    "transfer_months_malformed": "转移月份的每一行应为：起始年月、截止年月、月缴费基数（分）。",
    "transfer_months_reversed": "转移月份中有起始年月晚于截止年月的行，请核对信息表。",
    "transfer_base_invalid": "转移月份的月缴费基数应为正整数（分），请核对信息表。",
    "transfer_month_twice": "信息表中有月份重复列出，请与转出地核对。",
    "transfer_amount_invalid": "转移金额应为不小于零的整数（分），请核对信息表。",
    "transfer_pooled_part_mismatch": "统筹基金转移额不等于 1998 年起各月缴费基数之和的 12%："
                                     "请转出地更正基本养老保险关系转移接续信息表后重新办理。",
    "transfer_already_accepted": "该转入申请已受理，不能重复受理。",
    "transfer_already_posted": "该转入已到账记账，不能重复记账。",
    "transfer_already_remitted": "该转出已划转，不能重复办理。",
    "transfer_not_found": "未查到该参保人的这笔转入：请核对转移编号，或先办理转入受理。",
    "transfer_in_transit": "该参保人有一笔转移接续正在办理中，请待其到账记账后再办理。",
    "transfer_not_in_transit": "该转移编号不是该参保人正在办理中的转入，请核对转移编号。",
    "transfer_months_overlap": "信息表所列月份与本地缴费月份重复（重复缴费），"
                               "须先与转出地清理重复缴费后再记账。",
    "no_contributions_here": "该参保人在本统筹区尚无养老保险缴费：请参保缴费后再申请转入。",
    "nothing_to_transfer": "该参保人在本统筹区没有养老保险缴费月份，无可转出的内容。",
    "backpay_open": "该参保人有已核定未到账的补缴：请先办结补缴（到账或撤销）再办理转出。",
    "transfer_cancelled": "该转入已终止，不能记账：请重新受理转入申请。",
    "transfer_not_cancellable": "只有已受理、待基金到账的转入可以终止；已记账的转入不能终止。",
    "cancelled_before_acceptance": "终止日期早于受理日期，请核对。",
    "transfer_status_unknown": "转移状态应为：已受理待到账、已记账、已转出或已终止。",
    "accepted_before_application": "受理日期早于申请日期，请核对。",
    "funds_before_acceptance": "基金到账日期早于本地发出联系函的日期，请核对。",
    "funds_after_posting": "基金到账日期晚于记账日期，请核对。",
    "remitted_before_letter": "划转日期早于联系函到达日期，请核对。",
    "remittance_reference_missing": "请填写转入基金的银行或财政到账凭证号（最多 64 个字符）。",
    "person_deceased": "该参保人已登记死亡，养老保险关系已终止，不能办理转移接续"
                       "（个人账户余额按丧葬抚恤待遇办理）。",
    # reconciliation, suspense and finance statements
    "import_not_found": "未找到该导入批次。",
    "statement_not_found": "未找到该财政专户对账单。",
    "rejects_not_found": "该批次没有拒收的行（或导入尚未完成）。",
    "rejects_file_missing": "该批次的拒收明细文件已不在服务器上（或已被改动）；"
                            "拒收行数以汇总为准。",
    "upload_too_large": "文件过大，请拆分后分别上传。",
    "granularity_unknown": "对账粒度只能按月或按日。",
    "suspense_already_decided": "该暂收款已处理（已分配或已退款），不能重复处理。",
    "suspense_not_assigned_to_month": "该暂收款未分配到该月份。",
    "decided_by_too_long": "处理人名称过长。",
    "decided_by_missing": "缺少处理人。",
    "reference_missing": "请填写退费凭证号。",
    "direction_unknown": "方向不正确，请从列表中选择（收支方向：收入或支出；"
                         "转移方向：转入或转出）。",
    "statement_too_long": "对账单行数超过上限，请按年或按月拆分后导入。",
    "value_malformed": "该项只能包含字母、数字和 - _ . / #，请删除空格及其他符号。",
    "value_too_long": "该项内容过长，请核对。",
    # trace and statements (资金追溯、权益记录单)
    "account_invalid": "账户代码不正确：应为 fund:险种、personal:人员编号:险种、"
                       "clearing:tax、suspense 等。",
    "date_invalid": "日期格式应为 YYYY-MM-DD。",
    "span_invalid": "起始日期晚于截止日期。",
    "person_unknown": "未查到该参保人的业务记录。",
    "person_not_found": "在该记账位置时该参保人尚未登记。",
    "statement_year_out_of_range": "权益记录单的年度超出可查询的范围，请重新选择。",
    "verification_code_malformed": "核验码格式不正确，请与记录单核对。",
    "verification_code_check_char": "核验码校验位不符，可能有字符录入错误，请与记录单再次核对。",
    "verification_code_version": "本系统无法识别该核验码的版本，请核对。",
    "targets_invalid": "年度目标文件内容不正确，请联系系统管理员。",
    "report_replay_too_long": "按该记账位置生成报告需重放的事件过多，网页中无法完成；"
                              "请用命令行 shebao report annual 生成。",
    # the store
    "concurrent_update": "数据已被其他操作更新，请刷新页面后重试。",
    "projection_lagging": "数据正在同步，请稍后刷新页面。",
    "projection_stopped": "数据同步已停止，请联系系统管理员。",
    "position_not_found": "账簿中没有该记账位置。",
    "position_out_of_range": "记账位置应为正整数。",
    "position_not_reached": "该记账位置超出账簿当前的末尾，请核对。",
}


def error_text(code: str, message: str) -> str:
    """The Chinese text for a refusal; the code (and for unknown codes the domain's English
    message) stays visible for support."""
    known = ERROR_ZH.get(code)
    if known is not None:
        return f"{known}（{code}）"
    return f"操作未能完成（{code}）：{message}"
