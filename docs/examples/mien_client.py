"""Snap and poll with requests: python docs/examples/mien_client.py selfie.jpg [http://127.0.0.1:8000]"""
import sys
import time

import requests

photo, base = sys.argv[1], (sys.argv[2:] or ["http://127.0.0.1:8000"])[0]
session = requests.Session()  # keeps sessionid and csrftoken, like a browser
session.get(f"{base}/accounts/login/").raise_for_status()  # any page sets the csrftoken cookie
csrf = {"X-CSRFToken": session.cookies["csrftoken"]}
with open(photo, "rb") as image:
    answer = session.post(f"{base}/api/recognitions", files={"image": image}, headers=csrf)
if answer.status_code in (429, 503):
    sys.exit(f"{answer.json()['error']} (try again in {answer.headers['Retry-After']} s)")
if answer.status_code != 202:
    sys.exit(f"{answer.status_code}: {answer.json()['error']}")
while (result := session.get(base + answer.json()["url"], params={"wait": 10}).json())["status"] == "pending":
    time.sleep(0.5)  # ?wait=10: the server holds the request until the recognition ends (10 s at most)
if result["status"] == "failed":
    sys.exit(result["error"])
print(result["emotion_label"], {name: round(p, 2) for name, p in result["probabilities"].items()})
for song in result["songs"][:5]:
    print(f"{song['score']:.2f}  {song['title']} - {song['artist']}  {song['url']}")
