from scripts.check_translations import catalogues, problems


def test_english_catalogues_are_complete():
    assert list(catalogues()), "no message catalogues found"
    assert problems() == []
