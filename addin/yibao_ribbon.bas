Attribute VB_Name = "yibao_ribbon"
'The 医保征缴 ribbon: every button's onAction is YibaoRibbonAction, which runs
'the Python action named by the button's id through xlwings' RunPython.
'YibaoRibbonLoaded (the ribbon's onLoad) runs once when Excel loads the
'add-in: it checks that the xlwings DLL this add-in was built for is there,
'and gives Excel's function wizard the help of our functions.
Option Explicit

Private Const TITLE As String = "医保征缴"

Public Sub YibaoRibbonLoaded(ribbon As IRibbonUI)
    Dim problem As String, failed As String
    On Error Resume Next
    problem = YibaoSetupProblem()
    On Error GoTo 0
    If problem <> "" Then MsgBox problem, vbExclamation, TITLE
    failed = YibaoRegisterFunctions()
    If failed <> "" Then
        MsgBox "函数说明没能登记到“插入函数”对话框：" & failed & vbLf & _
               "函数本身不受影响，可以照常在单元格里使用。", vbInformation, TITLE
    End If
    ThisWorkbook.Saved = True
End Sub

'What is wrong with the set-up on this PC, in Chinese, or "" (Windows only).
'xlwings' VBA in this add-in loads xlwings64-<version>.dll (32 on 32-bit
'Office) of the one xlwings version it was built with, from the folder of the
'configured Python or its parent (a virtual environment); after
'`pip install -U xlwings` that file is gone and xlwings' own message is
'"Could not load xlwings64-....dll".
Public Function YibaoSetupProblem() As String
    #If Mac Then
        YibaoSetupProblem = ""
    #Else
        Dim python As String, dll As String, remedy As String
        remedy = vbLf & "请完全退出 Excel，在“命令提示符”中运行：yibao addin install" & vbLf & _
              "然后重新打开 Excel。"
        python = GetConfig("INTERPRETER_WIN", "")
        If python = "" Then python = GetConfig("INTERPRETER", "pythonw")
        If python = "python" Or python = "pythonw" Then Exit Function
        #If Win64 Then
            dll = "xlwings64-" & XLWINGS_VERSION & ".dll"
        #Else
            dll = "xlwings32-" & XLWINGS_VERSION & ".dll"
        #End If
        If Not FileExists(python) Then
            YibaoSetupProblem = "找不到 Excel 要用的 Python：" & python & remedy
        ElseIf Not FileExists(ParentFolder(python) & "\" & dll) And _
               Not FileExists(ParentFolder(ParentFolder(python)) & "\" & dll) Then
            YibaoSetupProblem = "这个加载项是按 xlwings " & XLWINGS_VERSION & " 生成的，但 Python 文件夹中没有 " & _
                                dll & "（xlwings 升级或重装过）。" & remedy
        End If
    #End If
End Function

'The text a function cell shows for an error: xlwings' English DLL message
'becomes what to do, in Chinese; other errors pass through.
Public Function YibaoErrorText(ByVal message As String) As String
    Dim problem As String
    If InStr(1, message, "Could not load xlwings", vbTextCompare) = 1 Then
        On Error Resume Next
        problem = YibaoSetupProblem()
        On Error GoTo 0
        If problem = "" Then
            problem = "Excel 无法加载 xlwings（" & message & "）。请完全退出 Excel，" & _
                      "在“命令提示符”中运行：yibao addin install"
        End If
        YibaoErrorText = problem
    Else
        YibaoErrorText = message
    End If
End Function

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
        Case "yibao_reconcile": pythonCode = "import yibao.macros.ribbon as r; r.run('reconcile')"
        Case "yibao_uninsured": pythonCode = "import yibao.macros.ribbon as r; r.run('uninsured')"
        Case "yibao_renewal": pythonCode = "import yibao.macros.ribbon as r; r.run('renewal')"
        Case "yibao_split": pythonCode = "import yibao.macros.ribbon as r; r.run('split')"
        Case "yibao_gather": pythonCode = "import yibao.macros.ribbon as r; r.run('gather')"
        Case Else
            MsgBox "这个按钮还没有对应的功能：" & control.ID, vbExclamation, TITLE
            Exit Sub
    End Select
    If ActiveWorkbook Is Nothing Then
        If control.ID <> "yibao_new_ledger" Then
            MsgBox "请先打开要处理的台账工作簿，再点这个按钮。", vbInformation, TITLE
            Exit Sub
        End If
        Workbooks.Add
    End If
    RunPython pythonCode
End Sub
