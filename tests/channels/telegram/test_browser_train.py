"""Issue #5's acceptance in a browser: headless Chromium (Debian's package, driven by Playwright,
no browser download) opens the sandbox page and runs a real /train conversation with the real
bot — a CSV upload, button presses, a typed answer, the progress bar, the report and its charts —
then /predict. The screenshot becomes docs/img/train.png for the README."""

from __future__ import annotations

from pathlib import Path

from tests.channels.telegram.conftest import BotInSandbox
from tests.sandbox.test_page import CHROMIUM_ARGS as ARGS

SCREENSHOT = Path(__file__).resolve().parents[3] / "docs" / "img" / "train.png"


def iris(path: Path, drop_target: bool = False) -> Path:
    from sklearn.datasets import load_iris

    frame = load_iris(as_frame=True).frame
    frame["species"] = frame.pop("target").map({0: "setosa", 1: "versicolor", 2: "virginica"})
    if drop_target:
        frame = frame.drop(columns=["species"]).head(10)
    frame.to_csv(path, index=False)
    return path


async def test_train_and_predict_in_the_browser(
    chromium: Path, bot: BotInSandbox, tmp_path: Path
) -> None:
    from playwright.async_api import async_playwright, expect

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(chromium), args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1100, "height": 1000})
            page.set_default_timeout(20_000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await page.goto(bot.sandbox.page_url)
            await expect(page.locator("body[data-ready=true]")).to_have_count(1)
            bot_rows = page.locator(".row.bot")

            async def say(text: str) -> None:
                await page.fill("#text-input", text)
                await page.press("#text-input", "Enter")

            async def press(label: str) -> None:
                await page.locator(".row.bot button", has_text=label).last.click()

            await say("/train")
            await expect(bot_rows.last).to_contain_text("Send me your data")
            await page.set_input_files("#file-input", str(iris(tmp_path / "iris.csv")))
            await expect(bot_rows.last).to_contain_text("Column types")
            await press("Looks right")
            await expect(bot_rows.last).to_contain_text("Which column should the model predict")
            await press("species")
            await expect(bot_rows.last).to_contain_text("learn from")
            await press("Done")
            await expect(bot_rows.last).to_contain_text("Which model")
            await say("random forest")
            await expect(bot_rows.last).to_contain_text("Ready to train")
            await press("Train")
            await expect(page.locator(".row.bot", has_text="Model trained")).to_have_count(
                1, timeout=90_000
            )
            bar = page.locator(".row.bot", has_text="100%")
            await expect(bar).to_have_count(1)  # one progress message, edited in place
            await expect(page.locator("img.photo").first).to_be_visible()

            await say("/predict")
            await press("latest")
            await page.set_input_files("#file-input", str(iris(tmp_path / "new.csv", True)))
            await expect(page.locator(".row.bot", has_text="predictions of")).to_have_count(
                1, timeout=60_000
            )
            await expect(page.locator(".file").last).to_contain_text("predictions_new.csv")
            await page.locator(".row.bot", has_text="Model trained").scroll_into_view_if_needed()
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(SCREENSHOT))
            assert SCREENSHOT.stat().st_size > 20_000
            assert errors == []
        finally:
            await browser.close()
