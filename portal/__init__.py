"""The pages that compose several apps, above all of them: Home, the leads and companies
pages, the navigation, the leads export, and the demo seeding.

Each domain app renders only its own parts (a template fragment, a selector); this
package puts them side by side. Nothing below imports it (tests/test_architecture.py).
"""
