"""Static material of the demo company: airports and the bilingual phrase banks.

Survey comments and complaint texts are built from these phrases, keyed to the experience
dimension (or complaint category) that drives them, so that text analysis can recover the
drivers (e.g. low convenience → "航班时刻太少" / "too few flight times").
"""
from __future__ import annotations

# airports: code, city, region, latitude, longitude, share of home customers, popularity as destination
AIRPORTS = (
    ("PEK", "Beijing", "North", 40.08, 116.58, .16, .16), ("SHA", "Shanghai", "East", 31.20, 121.34, .16, .16),
    ("CAN", "Guangzhou", "South", 23.39, 113.30, .10, .09), ("SZX", "Shenzhen", "South", 22.64, 113.81, .09, .08),
    ("CTU", "Chengdu", "Southwest", 30.58, 103.95, .08, .07), ("HGH", "Hangzhou", "East", 30.23, 120.43, .06, .05),
    ("CKG", "Chongqing", "Southwest", 29.72, 106.64, .05, .04), ("XIY", "Xi'an", "Northwest", 34.45, 108.75, .05, .05),
    ("WUH", "Wuhan", "Central", 30.78, 114.21, .05, .04), ("NKG", "Nanjing", "East", 31.74, 118.86, .04, .03),
    ("KMG", "Kunming", "Southwest", 25.10, 102.93, .04, .05), ("XMN", "Xiamen", "East", 24.54, 118.13, .03, .04),
    ("TAO", "Qingdao", "East", 36.27, 120.37, .03, .03), ("HRB", "Harbin", "Northeast", 45.62, 126.25, .03, .03),
    ("SYX", "Sanya", "South", 18.30, 109.41, .03, .07), ("HKG", "Hong Kong", "Overseas", 22.31, 113.92, 0., .05),
    ("NRT", "Tokyo", "Overseas", 35.77, 140.39, 0., .03), ("ICN", "Seoul", "Overseas", 37.46, 126.44, 0., .03),
    ("SIN", "Singapore", "Overseas", 1.36, 103.99, 0., .02), ("BKK", "Bangkok", "Overseas", 13.69, 100.75, 0., .03),
)

# phrase bank for survey comments: (zh, en) per dimension, negative then positive
NEG = {
    "product": (("座椅太挤，腿部空间太小。", "Seats are too cramped, not enough legroom."),
                ("机上餐食很一般。", "The in-flight meals were poor."),
                ("机上娱乐系统太旧了。", "The in-flight entertainment is outdated."),
                ("航线太少，很多城市不能直飞。", "Too few routes, many cities have no direct flight.")),
    "price": (("票价太贵了。", "Fares are too expensive."),
              ("退改签费用太高。", "Change and refund fees are too high."),
              ("行李额度太少，超重费太贵。", "Baggage allowance is too small and excess fees are high.")),
    "service": (("服务人员态度冷漠。", "Staff were indifferent."),
                ("空乘服务不热情。", "Cabin crew were unfriendly."),
                ("客服电话很难打通，回复太慢。", "Hard to reach the call centre, replies are slow."),
                ("地勤人员不耐烦。", "Ground staff were impatient.")),
    "convenience": (("航班时刻太少，时间不方便。", "Too few flight times, the schedule is inconvenient."),
                    ("想要的时间段没有航班。", "No flights at the times I need."),
                    ("值机排队太久。", "Check-in queues were too long."),
                    ("航班时刻太少，经常要转机。", "Too few flight times, I often have to connect.")),
    "brand_image": (("品牌形象比较老旧。", "The brand feels dated."),
                    ("和其他航空公司比没有特色。", "Nothing special compared with other airlines.")),
    "relationship": (("积分兑换太难。", "Miles are hard to redeem."),
                     ("常旅客权益太少。", "Too few frequent-flyer benefits."),
                     ("感觉不到对老客户的重视。", "Loyal customers don't feel valued.")),
}
POS = {
    "product": (("座椅舒适，餐食不错。", "Comfortable seats and good meals."),
                ("飞机很新很干净。", "The aircraft was new and clean.")),
    "price": (("价格合理，性价比高。", "Fair prices, good value for money."), ("经常有优惠。", "Frequent good deals.")),
    "service": (("空乘服务热情周到。", "Cabin crew were warm and attentive."),
                ("地勤很专业，很有耐心。", "Ground staff were professional and patient.")),
    "convenience": (("航班准点，时间合适。", "Flights on time at convenient hours."),
                    ("订票和值机很方便。", "Booking and check-in were easy.")),
    "brand_image": (("天途航空是值得信赖的品牌。", "SkyWay is a brand I trust."), ("品牌形象很好。", "Great brand image.")),
    "relationship": (("作为老会员很受重视。", "As a long-time member I feel valued."),
                     ("积分很实用。", "Miles are genuinely useful.")),
}
NEUTRAL = (("总体还可以。", "Overall it was OK."), ("没什么特别的。", "Nothing special."))
COMPLAINT_TEXT = {
    "delay": (("航班延误三个多小时，没有任何解释。", "Flight delayed over three hours with no explanation."),
              ("航班延误导致错过转机。", "The delay made me miss my connection."),
              ("延误后没有安排餐食和住宿。", "No meals or hotel offered after the delay.")),
    "baggage": (("行李丢失，至今没有找到。", "My bag was lost and still hasn't been found."),
                ("行李箱被摔坏了。", "My suitcase was damaged."), ("行李晚到了两天。", "My luggage arrived two days late.")),
    "service": (("服务人员态度冷漠，不理睬乘客。", "Staff were indifferent and ignored passengers."),
                ("空乘态度恶劣。", "Cabin crew were rude."), ("柜台工作人员很不耐烦。", "Counter staff were impatient.")),
    "refund": (("退票款迟迟不到账。", "My refund still hasn't arrived."), ("改签收费不合理。", "The change fee is unreasonable."),
               ("退款金额与承诺不符。", "The refund amount differs from what was promised.")),
    "booking": (("APP支付失败但扣了款。", "Payment failed in the app but I was charged."),
                ("网站订票时系统崩溃。", "The website crashed while booking."),
                ("选座功能无法使用。", "Seat selection did not work.")),
    "points": (("积分没有到账。", "My miles were not credited."), ("积分兑换座位太少。", "Too few award seats for miles."),
               ("会员等级被错误降级。", "My tier was downgraded by mistake.")),
}
COMPENSATION = ("要求赔偿。", "I demand compensation.")
# the closed loop's case handling: (zh, en) by root cause, and the comments of each step
CASE_ACTION = {
    "staff_attitude": ("已辅导相关员工并向客户致歉。", "Coached the staff involved and apologised to the customer."),
    "product": ("已将问题反馈产品团队。", "Passed the issue to the product team."),
    "price": ("解释了票价规则并赠送优惠券。", "Explained the fare rules and offered a voucher."),
    "convenience": ("协助客户电话预订下一次行程。", "Booked the customer's next trip with them by phone."),
    "information": ("已向客户发送正确信息。", "Sent the customer the correct information."),
}
CASE_TEXT = {
    "start": ("已致电客户，了解情况。", "Called the customer to hear what happened."),
    "resolve": ("客户接受了解释和补救措施。", "The customer accepted the explanation and the remedy."),
    "close": ("回访完成，关闭。", "Follow-up done; closing."),
    "reopen": ("客户再次来电，问题未解决。", "The customer called back: not solved yet."),
    "outcome": ("客户满意", "customer satisfied"),
}
