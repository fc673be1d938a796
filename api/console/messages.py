"""What the console says when something is refused, in Simplified Chinese. The domain's own
messages are English (they serve the API and the logs); the console shows the Chinese text of a
known code, else a general sentence with the code and the domain's message, so that nothing is
hidden from the user or from whoever they ask for help."""

from __future__ import annotations

ERROR_ZH: dict[str, str] = {
    # identity
    "id_number_malformed": "公民身份号码应为 18 位（前 17 位数字，末位数字或 X），"
                           "请核对后重新输入。",
    "id_number_check_digit": "公民身份号码校验位不正确，请核对证件后重新输入。",
    "id_number_birth_date": "公民身份号码中的出生日期无效，请核对证件后重新输入。",
    "person_not_registered": "本统筹区未查到该参保人，请核对公民身份号码。",
    # reasons for reading a person's record (查询留痕)
    "access_reason_missing": "查询参保人信息须先选择查询事由。",
    "access_reason_unknown": "查询事由无效，请从列表中选择。",
    "access_note_missing": "该查询事由须填写备注（如投诉编号、协助查询通知书编号）。",
    "access_note_too_long": "备注过长，请精简后重新填写。",
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
    "reason_missing": "请填写退回原因。",
    "signoff_required": "该办件须完成全部签批后方可办结。",
    # alerts (风险预警)
    "alert_not_found": "未找到该预警。",
    "alert_id_malformed": "预警编号格式不正确。",
    "alert_closed": "该预警已办结，不能再认领。",
    "alert_already_closed": "该预警已办结。",
    "alert_already_acknowledged": "该预警已由其他人员认领。",
    "alert_about_actor": "该预警涉及您本人经办的业务，须由其他稽核人员处理（回避）。",
    "resolution_missing": "请填写办结说明。",
    # reconciliation
    "import_not_found": "未找到该导入批次。",
    "statement_not_found": "未找到该财政专户对账单。",
    # trace
    "account_invalid": "账户代码不正确：应为 fund:险种、personal:人员编号:险种、"
                       "clearing:tax、suspense 等。",
    "date_invalid": "日期格式应为 YYYY-MM-DD。",
    "span_invalid": "起始日期晚于截止日期。",
    # the store
    "concurrent_update": "数据已被其他操作更新，请刷新页面后重试。",
    "projection_lagging": "数据正在同步，请稍后刷新页面。",
    "position_not_found": "账簿中没有该记账位置。",
}


def error_text(code: str, message: str) -> str:
    """The Chinese text for a refusal; the code (and for unknown codes the domain's English
    message) stays visible for support."""
    known = ERROR_ZH.get(code)
    if known is not None:
        return f"{known}（{code}）"
    return f"操作未能完成（{code}）：{message}"
