"""The names, namespaces and content types of the parts we write, and our
conventions (tab colour, named style, marks sheet), defined once."""

from __future__ import annotations

import datetime

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
WS_TYPE = REL_NS + "/worksheet"
COMMENTS_TYPE = REL_NS + "/comments"
VML_TYPE = REL_NS + "/vmlDrawing"
WS_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
COMMENTS_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
VML_CT = "application/vnd.openxmlformats-officedocument.vmlDrawing"
SST_TYPE = REL_NS + "/sharedStrings"
SST_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
OUR_TAB = "FF2F75B5"
COMPUTED_STYLE = "yibao计算"
MARKS_SHEET = "_yibao标注"
_EPOCH = datetime.date(1899, 12, 30)
#: the border of our result tables (as the openpyxl path draws it: thin, grey)
THIN_BORDER = ("<border>" + "".join(f'<{side} style="thin"><color rgb="FF999999"/></{side}>'
                                    for side in ("left", "right", "top", "bottom")) + "<diagonal/></border>")
PRINT_TITLES = "_xlnm.Print_Titles"

#: parts larger than this are deflated on two cores
PARALLEL_DEFLATE_BYTES = 4 << 20
