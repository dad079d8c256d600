"""Masking of personal data: short names, compound surnames, 15- and 18-digit IDs, phones, missing values."""
import pandas as pd
import pytest

from data.security.masking import mask_address, mask_frame, mask_id_number, mask_name, mask_phone


@pytest.mark.parametrize("raw,masked", [
    ("张三华", "张*华"), ("张华", "张*"), ("李", "*"), ("欧阳娜娜", "欧阳*娜"), ("欧阳华", "欧阳*"),
    ("司马相如", "司马*如"), ("诸葛亮", "诸葛*"), ("王小二丫", "王**丫"), (" 张华 ", "张*"),
    (None, ""), ("", ""), (float("nan"), ""),
])
def test_mask_name(raw, masked):
    assert mask_name(raw) == masked


@pytest.mark.parametrize("raw,masked", [
    ("360103199001011234", "360103********1234"),
    ("99999919500101123X", "999999********123X"),
    ("360103900101123", "360103*****1123"),
    (None, ""), ("", ""), ("12345", "*****"),
])
def test_mask_id_number(raw, masked):
    assert mask_id_number(raw) == masked


@pytest.mark.parametrize("raw,masked", [
    ("13812345678", "138****5678"), ("138 1234 5678", "138****5678"), ("0791-86123456", "********3456"),
    (None, ""), ("", ""),
])
def test_mask_phone(raw, masked):
    assert mask_phone(raw) == masked


def test_mask_address_hides_numbers():
    assert mask_address("象山路12号3栋201室") == "象山路**号*栋***室"


def test_mask_frame_leaves_the_original_untouched():
    df = pd.DataFrame({"姓名": ["张三华"], "身份证号": ["360103199001011234"], "金额": [100]})
    out = mask_frame(df, {"姓名": "name", "身份证号": "id_number"})
    assert out.iloc[0].tolist() == ["张*华", "360103********1234", 100]
    assert df.iloc[0, 0] == "张三华"
    for value in out.astype(str).values.ravel():
        assert "三" not in value and "19900101" not in value
