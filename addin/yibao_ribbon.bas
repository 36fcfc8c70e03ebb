Attribute VB_Name = "yibao_ribbon"
'The 医保征缴 ribbon: every button's onAction is YibaoRibbonAction, which runs
'the Python action named by the button's id through xlwings' RunPython.
Option Explicit

Public Sub YibaoRibbonAction(control As IRibbonControl)
    Dim pythonCode As String
    Select Case control.ID
        Case "yibao_new_ledger": pythonCode = "import yibao.macros.ribbon as r; r.run('new_ledger')"
        Case "yibao_validate": pythonCode = "import yibao.macros.ribbon as r; r.run('validate')"
        Case "yibao_refresh": pythonCode = "import yibao.macros.ribbon as r; r.run('refresh')"
        Case "yibao_dedupe": pythonCode = "import yibao.macros.ribbon as r; r.run('dedupe')"
        Case "yibao_quota": pythonCode = "import yibao.macros.ribbon as r; r.run('quota')"
        Case "yibao_reward": pythonCode = "import yibao.macros.ribbon as r; r.run('reward')"
        Case "yibao_progress": pythonCode = "import yibao.macros.ribbon as r; r.run('progress')"
        Case "yibao_summary": pythonCode = "import yibao.macros.ribbon as r; r.run('summary')"
        Case "yibao_notice": pythonCode = "import yibao.macros.ribbon as r; r.run('notice')"
        Case Else
            MsgBox "这个按钮还没有对应的功能：" & control.ID, vbExclamation, "医保征缴"
            Exit Sub
    End Select
    If ActiveWorkbook Is Nothing Then
        If control.ID <> "yibao_new_ledger" Then
            MsgBox "请先打开要处理的台账工作簿，再点这个按钮。", vbInformation, "医保征缴"
            Exit Sub
        End If
        Workbooks.Add
    End If
    RunPython pythonCode
End Sub
