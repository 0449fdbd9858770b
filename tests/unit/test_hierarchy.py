"""Reading code CSVs: formats that must import as they are, and every kind of bad row, reported and kept."""

from geo.hierarchy import read_codes_csv


def write(tmp_path, text, encoding="utf-8", name="codes.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_code_and_name_only_derives_level_and_parent(tmp_path):
    path = write(tmp_path, "code,name\n330522,长兴县\n330522001,雉城街道\n330522001001,南门社区\n")
    read = read_codes_csv(path)
    assert read.issues == []
    by_code = {r.code: r for r in read.regions}
    assert by_code["330522001001000"[:12]].level == "village"
    assert by_code["330522001000"].parent_code == "330522000000"
    assert by_code["330522000000"].level == "county"
    assert by_code["330522001001"].parent_code == "330522001000"


def test_gbk_file_with_chinese_headers(tmp_path):
    text = "区划代码,名称,户数,人口\n330522000000,长兴县,,\n330522001000,雉城街道,1200,3600\n"
    read = read_codes_csv(write(tmp_path, text, encoding="gbk"))
    assert read.encoding == "gb18030"
    assert [r.name for r in read.regions] == ["长兴县", "雉城街道"]
    assert read.regions[1].households == 1200 and read.regions[1].population == 3600


def test_every_bad_row_is_reported_with_row_and_field_and_the_rest_imports(tmp_path):
    text = (
        "code,name,level,parent_code\n"
        "330522000000,长兴县,county,330500000000\n"  # row 2: root (its parent is not in the file)
        "330522001000,雉城街道,township,330522000000\n"  # row 3
        "33052A001000,坏代码,township,330522000000\n"  # row 4: letter
        "3305221,短代码,township,330522000000\n"  # row 5: wrong length
        "330522001000,重复,township,330522000000\n"  # row 6: duplicate
        "330522009001,孤儿村,village,330522009000\n"  # row 7: parent missing
        "330522001001,南门社区,village\n"  # row 8: malformed (3 cells)
        "330522001002,,village,330522001000\n"  # row 9: empty name
        "330522001003,错级村,township,330522001000\n"  # row 10: level contradicts code
        "330522001004,好村,village,330522001000\n"  # row 11: fine
    )
    read = read_codes_csv(write(tmp_path, text))
    assert sorted(r.code for r in read.regions) == ["330522000000", "330522001000", "330522001004"]
    found = {(issue.location, issue.field, issue.kind) for issue in read.issues}
    assert found == {
        ("第 4 行", "code", "bad code"),
        ("第 5 行", "code", "bad code"),
        ("第 6 行", "code", "duplicate code"),
        ("第 7 行", "parent_code", "missing parent"),
        ("第 8 行", None, "malformed row"),
        ("第 9 行", "name", "empty name"),
        ("第 10 行", "level", "level mismatch"),
    }
    assert all(issue.file == "codes.csv" for issue in read.issues)
    assert str(next(i for i in read.issues if i.location == "第 4 行")) == (
        "codes.csv，第 4 行，字段「code」：区划代码错误 [bad code]：代码 '33052A001000' 含非数字字符 'A'"
    )
    orphan = next(i for i in read.issues if i.location == "第 7 行")
    assert orphan.raw["name"] == "孤儿村"
    assert orphan.detail == "330522009000 既不在文件中也不在数据仓库中（330522009001 的上级）"
    details = {issue.location: issue.detail for issue in read.issues}
    assert details["第 6 行"] == "330522001000 已在第 3 行出现"
    assert details["第 8 行"] == "该行有 3 个单元格，表头有 4 列"
    assert details["第 10 行"] == "文件中的层级为 'township'，但代码 330522001003 是村级（village）"


def test_counts_that_are_not_whole_numbers_are_rejected_in_chinese(tmp_path):
    text = "code,name,户数\n330522,长兴县,\n330522001,甲镇,abc\n330522002,乙镇,nan\n330522003,丙镇,inf\n"
    text += "330522004,丁镇,1.5\n"
    read = read_codes_csv(write(tmp_path, text))
    assert [r.code for r in read.regions] == ["330522000000"]
    assert [(i.location, i.field, i.kind, i.detail) for i in read.issues] == [
        ("第 3 行", "households", "bad number", "'abc' 不是大于等于 0 的整数"),
        ("第 4 行", "households", "bad number", "'nan' 不是大于等于 0 的整数"),
        ("第 5 行", "households", "bad number", "'inf' 不是大于等于 0 的整数"),
        ("第 6 行", "households", "bad number", "'1.5' 不是大于等于 0 的整数"),
    ]


def test_file_in_neither_utf8_nor_gbk_is_one_issue_not_a_crash(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_bytes(b"code,name\n330522,\xff\xff\xff\n")
    read = read_codes_csv(path)
    assert read.regions == []
    assert [(i.file, i.location, i.kind) for i in read.issues] == [("codes.csv", "", "encoding")]
    assert "UTF-8" in read.issues[0].detail and "GBK" in read.issues[0].detail


def test_parent_known_from_the_warehouse_is_accepted(tmp_path):
    read = read_codes_csv(write(tmp_path, "code,name\n330522001001,南门社区\n"), known_codes={"330522001000"})
    assert [r.code for r in read.regions] == ["330522001001"]


def test_children_of_a_rejected_parent_are_rejected_too(tmp_path):
    text = "code,name\n3305,湖州市\n330522009,某镇\n330522009001,某村\n"  # county 330522 missing
    read = read_codes_csv(write(tmp_path, text))
    assert [r.code for r in read.regions] == ["330500000000"]
    assert {i.kind for i in read.issues} == {"missing parent"}
    assert len(read.issues) == 2


def test_empty_file_and_missing_columns(tmp_path):
    assert read_codes_csv(write(tmp_path, "")).issues[0].kind == "empty file"
    issue = read_codes_csv(write(tmp_path, "代码,备注\n330522,x\n", name="b.csv")).issues[0]
    assert (issue.file, issue.field, issue.kind) == ("b.csv", "name", "missing column")


def test_real_changxing_file_imports_as_it_is(real_data):
    read = read_codes_csv(real_data / "admin_codes_330522.csv")
    assert read.issues == []
    levels = [r.level for r in read.regions]
    assert (levels.count("county"), levels.count("township"), levels.count("village")) == (1, 15, 278)


def test_a_parent_that_is_not_an_ancestor_by_code_is_refused(tmp_path):
    # A region its own parent was stored, and every page drawing its breadcrumb looped for ever; a village under another
    # township's code made the tree (parent_code) and scope checks (the code's prefix) disagree on who owns it.
    text = (
        "code,name,level,parent_code\n"
        "330522000000,长兴县,county,330500000000\n"
        "330522001000,雉城街道,township,330522000000\n"
        "330522002000,太湖街道,township,330522000000\n"
        "330522001004,自指,village,330522001004\n"  # row 5: its own parent
        "330522001006,错挂,village,330522002000\n"  # row 6: under the wrong township
        "330522002001,长城,village,330522002000\n"  # row 7: right
    )
    read = read_codes_csv(write(tmp_path, text))
    assert sorted(r.code for r in read.regions) == ["330522000000", "330522001000", "330522002000", "330522002001"]
    refused = {issue.location: issue for issue in read.issues}
    assert {refused["第 5 行"].kind, refused["第 6 行"].kind} == {"bad parent"}
    assert "上级代码不符 [bad parent]" in str(refused["第 6 行"])
    assert (
        refused["第 6 行"].field == "parent_code"
        and "330522002000 不是 330522001006 的上级" in refused["第 6 行"].detail
    )


def test_a_stray_county_of_another_region_does_not_become_a_second_root(tmp_path):
    # 忻府区 in 长兴县's list was taken as a root and, with the lowest code, became the screens' county.
    text = "code,name\n330522,长兴县\n330522001,雉城街道\n140902,外县忻府区\n"
    read = read_codes_csv(write(tmp_path, text))
    assert sorted(r.code for r in read.regions) == ["330522000000", "330522001000"]
    assert [(i.location, i.kind) for i in read.issues] == [("第 4 行", "other region")]
    assert str(read.issues[0]).startswith("codes.csv，第 4 行，字段「code」：属于另一地区 [other region]：140902000000")


def test_a_workbook_given_as_a_code_list_is_told_to_be_saved_as_csv(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["code", "name"])
    book.save(tmp_path / "codes.xlsx")
    read = read_codes_csv(tmp_path / "codes.xlsx")
    assert read.regions == [] and [i.kind for i in read.issues] == ["workbook"]
    assert "另存为 CSV" in read.issues[0].detail


def test_a_file_of_villages_alone_must_name_townships_that_exist(tmp_path):
    text = "code,name\n330522001001,南门社区\n330522009001,孤儿村\n"
    read = read_codes_csv(write(tmp_path, text), known_codes={"330522000000", "330522001000"})
    assert [r.code for r in read.regions] == ["330522001001"]
    assert [(i.location, i.kind) for i in read.issues] == [("第 3 行", "missing parent")]
