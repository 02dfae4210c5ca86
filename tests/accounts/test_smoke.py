def test_school_admin_sees_own_roster(world):
    response = world.client("school_a1_admin").get("/roster/")
    assert response.status_code == 200
    assert "育才小学老师" in response.content.decode()
    assert "东山中学老师" not in response.content.decode()
