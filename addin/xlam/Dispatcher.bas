Attribute VB_Name = "Dispatcher"
' sopxl: the S&OP ribbon dispatcher and the refresh stamp of the SOP_ worksheet functions.
' Built into sopxl.xlam from this text by addin/build_xlam.py; edit here, not in the VBA editor.
Option Explicit

' Every S&OP ribbon button calls this; its tag (see customUI14.xml) names the Python action.
Public Sub OnAction(control As IRibbonControl)
    RunPython "import addin.ribbon as r; r.run('" & control.Tag & "')"
End Sub

' "<workbook full name>|<refreshed_at>": the hidden last argument of every SOP_ function, so a result
' always comes from the plan the calling workbook shows (see addin/plan_cache.py).
Public Function SopStamp() As String
    Dim wb As Workbook, body As Range, r As Long
    SopStamp = ""
    On Error GoTo Done
    If TypeOf Application.Caller Is Range Then
        Set wb = Application.Caller.Worksheet.Parent
    Else
        Set wb = ActiveWorkbook
    End If
    SopStamp = wb.FullName & "|"
    Set body = SettingsBody(wb)
    If body Is Nothing Then Exit Function
    For r = 1 To body.Rows.Count
        If CStr(body.Cells(r, 1).Value) = "refreshed_at" Then
            SopStamp = wb.FullName & "|" & CStr(body.Cells(r, 2).Value)
            Exit Function
        End If
    Next r
Done:
End Function

Private Function SettingsBody(wb As Workbook) As Range
    Dim ws As Worksheet, lo As ListObject
    For Each ws In wb.Worksheets
        For Each lo In ws.ListObjects
            If lo.Name = "tblSettings" Then
                Set SettingsBody = lo.DataBodyRange
                Exit Function
            End If
        Next lo
    Next ws
End Function
